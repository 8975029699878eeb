/**
 * DNS-rebinding and cross-site protection: which browser origins and which hosts may reach the
 * MCP endpoint. A request without Origin comes from a non-browser client and is allowed (the API
 * key still decides); localhost origins are allowed for local tools; anything else must be listed.
 */
import { ApiError } from "./errors.ts";

export interface OriginPolicy {
  allowedOrigins: readonly string[] | "*";
  /** Empty: any host. */
  allowedHosts: readonly string[];
}

const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isOriginAllowed(origin: string | null, policy: OriginPolicy): boolean {
  if (origin === null) return true;
  if (policy.allowedOrigins === "*") return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed pages, file://) and garbage
  }
  if (LOCAL_HOSTNAMES.has(url.hostname)) return true;
  return policy.allowedOrigins.includes(url.origin);
}

/** The host the client addressed: the gateway's forwarded host when there is one. */
function requestHost(headers: Headers): string | null {
  return headers.get("x-forwarded-host") ?? headers.get("host");
}

export function originNotAllowed(origin: string | null): ApiError {
  return new ApiError(
    "ORIGIN_NOT_ALLOWED",
    `Requests from the web origin ${origin} are not allowed. ` +
      "An admin can allow it with MCP_ALLOWED_ORIGINS.",
  );
}

/** `origin`: the Origin header when the caller already read it (null: none was sent). */
export function checkOrigin(
  request: Request,
  policy: OriginPolicy,
  origin: string | null = request.headers.get("origin"),
): void {
  if (!isOriginAllowed(origin, policy)) throw originNotAllowed(origin);
  if (policy.allowedHosts.length === 0) return;
  const host = requestHost(request.headers)?.toLowerCase() ?? null;
  if (host === null || !policy.allowedHosts.includes(host)) {
    throw new ApiError(
      "HOST_NOT_ALLOWED",
      `This server does not answer to the host ${host ?? "(none)"}. ` +
        "Use its published URL; an admin can allow more hosts with MCP_ALLOWED_HOSTS.",
    );
  }
}
