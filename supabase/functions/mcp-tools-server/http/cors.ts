/**
 * CORS for browser clients (e.g. MCP Inspector): preflights are answered before authentication,
 * and every answer, errors included, tells the browser it may read it.
 */
import type { MiddlewareHandler } from "hono";
import { isOriginAllowed, originNotAllowed, type OriginPolicy } from "./origin.ts";

const ALLOWED_HEADERS = [
  "authorization",
  "content-type",
  "accept",
  "mcp-protocol-version",
  "mcp-method",
  "mcp-name",
  "mcp-session-id",
  "last-event-id",
  "x-api-key",
];
const ALLOWED_HEADER_SET = new Set(ALLOWED_HEADERS);
const EXPOSED_HEADERS = "www-authenticate, retry-after";

/** Requested headers we accept: the standard ones and the Mcp-Param-* mirrors of tool arguments. */
function allowedRequestHeaders(requested: string | null): string {
  const extra = (requested ?? "").split(",").map((h) => h.trim().toLowerCase())
    .filter((h) => h.startsWith("mcp-param-") && !ALLOWED_HEADER_SET.has(h));
  return [...ALLOWED_HEADERS, ...extra].join(", ");
}

export function cors(policy: OriginPolicy): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin") ?? null;
    const allowed = origin !== null && isOriginAllowed(origin, policy);
    if (c.req.method === "OPTIONS") {
      if (origin === null) return c.body(null, 204, { allow: "POST, OPTIONS" });
      // A refusal like any other: JSON with its code (the browser shows it in the console).
      if (!allowed) throw originNotAllowed(origin);
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST, GET, DELETE, OPTIONS",
        "access-control-allow-headers": allowedRequestHeaders(
          c.req.header("access-control-request-headers") ?? null,
        ),
        "access-control-max-age": "86400",
        vary: "Origin",
      });
    }
    await next();
    if (allowed) {
      c.res.headers.set("access-control-allow-origin", origin);
      c.res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
      c.res.headers.append("vary", "Origin");
    }
  };
}
