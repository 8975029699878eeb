/** Reads the caller's API key from the request headers, refusing anything ambiguous. */
import { parseApiKey, type ParsedKey } from "./api_key.ts";
import { ApiError } from "../lib/api_error.ts";

/** Supabase's own credentials (JWTs, sb_ keys) that a gateway or supabase-js may add. */
const PLATFORM_TOKEN = /^(eyJ[\w-]*\.[\w-]*\.[\w-]*|sb_(publishable|secret)_\S+)$/;
/** Query names refused, compared lowercase without - and _ (API_KEY, apiKey, x-api-key, …). */
const QUERY_CREDENTIALS = new Set([
  "apikey",
  "key",
  "token",
  "accesstoken",
  "auth",
  "authorization",
  "bearer",
  "xapikey",
  "secret",
]);
const normalizedName = (name: string) => name.toLowerCase().replace(/[-_]/g, "");

/** The key, well-formed (see api_key.ts), or an ApiError; anything else is refused without a lookup. */
export function readApiKey(request: Request): ParsedKey {
  return parseKeyText(readKeyText(request));
}

/**
 * The one credential the request carries, as sent, or an ApiError; its format is not checked
 * yet (a key cache hit needs no check: only well-formed keys get into the cache).
 */
/** `authorization`: the Authorization header when the caller already read it. */
export function readKeyText(
  request: Request,
  authorization: string | null = request.headers.get("authorization"),
): string {
  refuseCredentialsInUrl(request.url);
  const bearer = bearerToken(authorization);
  const headerKey = single("x-api-key", request.headers.get("x-api-key"));

  let key: string | undefined;
  if (headerKey !== undefined && bearer !== undefined && bearer !== headerKey) {
    // supabase-js and the gateway put Supabase's own key in Authorization; then ours rides in
    // x-api-key. Two different keys of ours, though, is a mistake we must not guess about.
    if (!PLATFORM_TOKEN.test(bearer)) {
      throw new ApiError(
        "AMBIGUOUS_CREDENTIALS",
        "The request carries two different API keys (Authorization and x-api-key). Send one.",
      );
    }
    key = headerKey;
  } else {
    key = headerKey ?? bearer;
  }

  if (key === undefined || key === "") {
    throw new ApiError(
      "MISSING_API_KEY",
      "No API key. Send it as 'Authorization: Bearer <api key>' (or in an x-api-key header).",
    );
  }
  return key;
}

/** The key's parts, or INVALID_API_KEY saying what is wrong with it. */
export function parseKeyText(key: string): ParsedKey {
  const parsed = parseApiKey(key);
  if (!parsed) {
    const hint = PLATFORM_TOKEN.test(key)
      ? " This looks like a Supabase key, not an mcp-tools-server API key (those start with mcpk_)."
      : " Keys look like mcpk_<12 characters>_<70 characters>; check that it was copied whole.";
    throw new ApiError("INVALID_API_KEY", "The API key is not valid." + hint);
  }
  return parsed;
}

/** `Bearer`, any case, then nothing or white space and the token. */
function bearerToken(header: string | null): string | undefined {
  const value = single("Authorization", header);
  if (value === undefined) return undefined;
  const scheme = value.slice(0, 6);
  if (scheme !== "Bearer" && scheme.toLowerCase() !== "bearer" || /^\S/.test(value.slice(6))) {
    throw new ApiError(
      "INVALID_API_KEY",
      "The Authorization header must have the form 'Bearer <api key>'.",
    );
  }
  return value.slice(6).trim();
}

/** Repeated headers arrive joined by commas; keys never contain one. */
function single(name: string, value: string | null): string | undefined {
  if (value === null) return undefined;
  if (value.includes(",")) {
    throw new ApiError(
      "AMBIGUOUS_CREDENTIALS",
      `The ${name} header was sent more than once or holds several values. Send one API key.`,
    );
  }
  return value.trim();
}

export function refuseCredentialsInUrl(url: string): void {
  const query = url.indexOf("?");
  if (query === -1) return;
  const params = new URLSearchParams(url.slice(query + 1));
  // By name, whatever its spelling, and by value: one of our keys under any name.
  const found = [...params].find(([name, value]) =>
    QUERY_CREDENTIALS.has(normalizedName(name)) || value.trim().startsWith("mcpk_")
  )?.[0];
  if (found) {
    throw new ApiError(
      "CREDENTIALS_IN_URL",
      `Remove "${found}" from the URL: credentials in URLs end up in logs and histories. ` +
        "Send the key as 'Authorization: Bearer <api key>' instead.",
    );
  }
}
