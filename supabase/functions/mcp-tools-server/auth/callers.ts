/**
 * Which credential a request carries decides who checks it: an `mcpk_` API key (Authorization or
 * x-api-key) goes to the key authenticator, a Supabase Auth access token (a JWT in Authorization)
 * to the user authenticator when the deployment accepts user tokens. Either way the answer is a
 * caller acting in one tenant, which must be the tenant the URL names when it names one.
 */
import type { Authenticator, Caller } from "./authenticator.ts";
import type { UserAuthenticator, UserCaller } from "./user_authenticator.ts";
import { looksLikeJwt } from "./user_token.ts";
import { refuseCredentialsInUrl } from "./credentials.ts";
import { ApiError } from "../lib/api_error.ts";

export class Callers {
  constructor(
    private readonly keys: Authenticator,
    /** Absent: the deployment accepts API keys only. */
    private readonly users: UserAuthenticator | undefined,
  ) {}

  /**
   * `seen.keyCache` (API keys) says whether the key was found cached or looked up. A cached key is
   * answered synchronously, as the warm path wants it.
   */
  authenticate(
    request: Request,
    tenantSlug?: string,
    seen?: { keyCache?: "hit" | "miss" },
  ): Caller | UserCaller | Promise<Caller | UserCaller> {
    const authorization = request.headers.get("authorization");
    const token = userToken(request, authorization);
    if (token !== undefined) {
      refuseCredentialsInUrl(request.url);
      if (!this.users) {
        throw new ApiError(
          "INVALID_API_KEY",
          "This server accepts API keys (mcpk_…) only; signing in with a Supabase account is " +
            "not enabled here. Send 'Authorization: Bearer <api key>'.",
        );
      }
      return this.users.authenticate(token, tenantSlug);
    }
    if (this.users && !hasCredential(request, authorization)) {
      refuseCredentialsInUrl(request.url);
      throw new ApiError(
        "MISSING_API_KEY",
        "No credentials. Send 'Authorization: Bearer <api key or Supabase access token>' " +
          "(a person signs in with their Supabase account and must be a member of the tenant).",
      );
    }
    const caller = this.keys.authenticate(request, seen, authorization);
    if (tenantSlug === undefined) return caller;
    return caller instanceof Promise
      ? caller.then((found) => inTenant(found, tenantSlug))
      : inTenant(caller, tenantSlug);
  }
}

/** A key caller reaching `/t/<slug>/mcp` must belong to that tenant. */
function inTenant(caller: Caller, tenantSlug: string): Caller {
  if (caller.tenant.slug !== tenantSlug) {
    throw new ApiError(
      "WRONG_TENANT",
      `The API key ${caller.keyPrefix}… belongs to tenant "${caller.tenant.slug}", not ` +
        `"${tenantSlug}". Use the URL of the key's own tenant, or …/mcp without a tenant.`,
    );
  }
  return caller;
}

function hasCredential(request: Request, header: string | null): boolean {
  // Anything but an empty "Bearer" counts; what it is gets checked next.
  const authorization = header?.trim();
  if (authorization && !/^Bearer$/i.test(authorization)) return true;
  return !!request.headers.get("x-api-key")?.trim();
}

/** The bearer token when it is shaped like a JWT and no x-api-key rides beside it. */
function userToken(request: Request, authorization: string | null): string | undefined {
  // A JWT has two dots, an API key none: most requests stop here.
  if (authorization === null || !authorization.includes(".")) return undefined;
  // supabase-js sends its own JWT in Authorization and the API key in x-api-key: a key case.
  if (request.headers.has("x-api-key")) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match && looksLikeJwt(match[1]) && !isProjectApiKey(match[1]) ? match[1] : undefined;
}

/**
 * The project's own legacy API keys (anon, service_role) are JWTs without a user: pasted by
 * mistake, they get the API-key answer ("this looks like a Supabase key"), not a token refusal.
 */
function isProjectApiKey(jwt: string): boolean {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
    return payload?.sub === undefined && ["anon", "service_role"].includes(payload?.role);
  } catch {
    return false;
  }
}
