/**
 * The function's HTTP surface: routes under the function's own path segment, origin and CORS
 * guards, the body limit, and the mapping of every failure to a JSON answer. Plain POSTs to the
 * MCP endpoint skip the router (the hot path); everything else goes through it.
 */
import { Hono } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import { BASE_PATH, type Config, SERVER_NAME, SERVER_VERSION } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { McpFront } from "../mcp/front.ts";
import type { ServerCache } from "../mcp/server_cache.ts";
import { cors } from "./cors.ts";
import { declaredSize, readBody } from "./body.ts";
import { ApiError, apiErrorResponse } from "./errors.ts";
import { checkOrigin } from "./origin.ts";

/** What the routes are wired to; the composition root builds every part. */
export interface HttpDeps {
  config: Config;
  auth: Authenticator;
  servers: ServerCache;
  front: McpFront;
  metrics: Metrics;
  log: Logger;
}

/** The function as the runtime calls it. */
export interface HttpApp {
  fetch(request: Request): Response | Promise<Response>;
}

const MCP_PATH = `${BASE_PATH}/mcp`;

export function createHttpApp(deps: HttpDeps): HttpApp {
  const fail = failureResponse(deps.log);
  const mcp = mcpEndpoint(deps, fail);
  const router = routes(deps, mcp, fail);
  return {
    fetch(request) {
      // What agents send — a POST to the endpoint from no browser — needs no router and no CORS
      // headers; it takes the same endpoint, and fails the same way, as the routed path.
      if (request.method === "POST" && !request.headers.has("origin") && isMcpPath(request.url)) {
        return mcp(request);
      }
      return router.fetch(request);
    },
  };
}

/**
 * The MCP endpoint, every request in the same order: origin and host, the declared body size,
 * the API key, the method, the body (read once), then the caller's server and the protocol front.
 */
function mcpEndpoint(
  deps: HttpDeps,
  fail: (err: unknown) => Response,
): (request: Request) => Promise<Response> {
  const { config, auth, servers, front, metrics } = deps;
  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  return async (request) => {
    try {
      metrics.requests++;
      checkOrigin(request, originPolicy);
      const declared = declaredSize(request, config.maxBodyBytes);
      // Authentication first, the same in both protocol eras.
      const caller = await auth.authenticate(request);
      // After authentication, so an anonymous probe learns nothing but "authenticate".
      if (request.method !== "POST") {
        throw new ApiError(
          "METHOD_NOT_ALLOWED",
          "This endpoint takes JSON-RPC messages by POST only; there are no sessions or GET streams.",
          { allow: "POST, OPTIONS" },
        );
      }
      const body = await readBody(request, declared, config.maxBodyBytes);
      return await front.handle(request, body, caller, servers.serverFor(caller.toolSet));
    } catch (err) {
      return fail(err);
    }
  };
}

/** Any failure as a JSON answer: ApiErrors as they are, anything else with a reference. */
function failureResponse(log: Logger): (err: unknown) => Response {
  return (err) => {
    if (err instanceof ApiError) return apiErrorResponse(err);
    const ref = crypto.randomUUID();
    log.error("request_failed", { ref, error: err });
    return apiErrorResponse(
      new ApiError("INTERNAL_ERROR", `Something went wrong on our side (reference ${ref}).`),
      { reference: ref },
    );
  };
}

function routes(
  deps: HttpDeps,
  mcp: (request: Request) => Promise<Response>,
  fail: (err: unknown) => Response,
): Hono {
  const { config, auth, servers, metrics } = deps;
  const app = new Hono({ strict: false }).basePath(BASE_PATH);

  app.get("/health", (c) => c.json({ status: "ok", name: SERVER_NAME, version: SERVER_VERSION }));

  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  // Preflights are answered before anything else; CORS headers go on every answer, errors too.
  app.use("/mcp", cors(originPolicy));
  app.all("/mcp", (c) => mcp(c.req.raw));

  app.get("/metrics", (c) => {
    const token = config.metricsToken;
    if (!token || !timingSafeEqual(c.req.header("authorization") ?? "", `Bearer ${token}`)) {
      return notFound();
    }
    return c.json({ ...metrics, cachedServers: servers.size, cachedKeys: auth.cachedKeys });
  });

  app.notFound(() => notFound());

  app.onError(fail);

  return app;
}

function notFound(): Response {
  return apiErrorResponse(
    new ApiError(
      "NOT_FOUND",
      `No such endpoint. MCP clients connect to ${BASE_PATH}/mcp ` +
        `(e.g. https://<project>.supabase.co/functions/v1${BASE_PATH}/mcp).`,
    ),
  );
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** `<scheme>://<host>/mcp-tools-server/mcp`, with or without a query: no URL object needed. */
function isMcpPath(url: string): boolean {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  if (path === -1 || !url.startsWith(MCP_PATH, path)) return false;
  const end = path + MCP_PATH.length;
  return end === url.length || url[end] === "?";
}
