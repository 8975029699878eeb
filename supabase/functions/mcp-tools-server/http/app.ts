/**
 * The function's HTTP surface: routes under the function's own path segment, origin and CORS
 * guards, the body limits, the request log line, and the mapping of every failure to a JSON
 * answer. Plain POSTs to an MCP endpoint skip the router (the hot path); everything else goes
 * through it, and both take the same endpoint.
 */
import type { Hono } from "hono";
import type { Authenticator } from "../auth/authenticator.ts";
import type { Callers } from "../auth/callers.ts";
import { BASE_PATH, type Config, SERVER_NAME, SERVER_VERSION } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { McpFront } from "../mcp/front.ts";
import { rpcErrorResponse } from "../mcp/protocol/jsonrpc.ts";
import type { ServerCache } from "../mcp/server_cache.ts";
import { discardUnread, readBody, refuseTooLarge } from "./body.ts";
import { cors } from "./cors.ts";
import { ApiError, apiErrorResponse } from "./errors.ts";
import { METADATA_PATH, protectedResourceMetadata, wwwAuthenticate } from "./oauth.ts";
import { checkOrigin } from "./origin.ts";
import { type MeteringDeps, RequestRecord } from "./request_log.ts";

/** What the routes are wired to; the composition root builds every part. */
export interface HttpDeps {
  config: Config;
  auth: Authenticator;
  /** Every credential kind: keys, and user tokens where enabled. */
  callers: Callers;
  servers: ServerCache;
  front: McpFront;
  metrics: Metrics;
  log: Logger;
  metering: MeteringDeps;
  /** Whether the database answers (cached briefly). */
  storeReady: () => Promise<boolean>;
}

/** The function as the runtime calls it. */
export interface HttpApp {
  fetch(request: Request): Response | Promise<Response>;
}

type Env = { Variables: { record: RequestRecord } };
/** `origin`: the request's Origin header, already read by the caller (null: none). */
type Endpoint = (
  request: Request,
  record: RequestRecord,
  origin: string | null,
) => Promise<Response>;

export function createHttpApp(deps: HttpDeps): HttpApp {
  const fail = failureResponse(deps);
  const mcp = mcpEndpoint(deps, fail);
  // Hono and the routes come with the first routed request: a worker woken by an MCP POST never
  // needs them.
  let router: Hono<Env> | undefined;
  let loading: Promise<Hono<Env>> | undefined;
  const loadRouter = () =>
    loading ??= import("hono").then(({ Hono }) => router = routes(Hono, deps, mcp, fail), (err) => {
      loading = undefined; // a failed import is tried again by the next request
      throw err;
    });
  return {
    async fetch(request) {
      // What agents send — a POST to an MCP endpoint from no browser — needs no router and no
      // CORS headers; it takes the same endpoint, and fails the same way, as the routed path.
      if (request.method === "POST" && !request.headers.has("origin") && isMcpPath(request.url)) {
        const record = new RequestRecord(deps.metering);
        const response = await mcp(request, record, null);
        record.finish(request.method, response.status, record.failure);
        return response;
      }
      return router ? router.fetch(request) : loadRouter().then((loaded) => loaded.fetch(request));
    },
  };
}

/**
 * An MCP endpoint, every request in the same order: origin and host, the declared body size, the
 * credential, the method, the caller's limits, the body (read once, within its bounds), then the
 * caller's server and the protocol front.
 */
function mcpEndpoint(deps: HttpDeps, fail: (err: unknown, request: Request) => Response): Endpoint {
  const { config, callers, servers, front, metrics } = deps;
  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  return async (request, record, origin) => {
    try {
      metrics.requests++;
      checkOrigin(request, originPolicy, origin);
      const declared = request.headers.get("content-length");
      if (declared !== null && Number(declared) > config.maxBodyBytes) {
        await refuseTooLarge(request, config.maxBodyBytes);
      }
      // Authentication first, the same in both protocol eras; a cached key needs no await.
      const found = callers.authenticate(request, tenantOf(request.url), record);
      const caller = found instanceof Promise ? await found : found;
      // After authentication, so an anonymous probe learns nothing but "authenticate".
      if (request.method !== "POST") {
        throw new ApiError(
          "METHOD_NOT_ALLOWED",
          "This endpoint takes JSON-RPC messages by POST only; there are no sessions or GET streams.",
          { allow: "POST, OPTIONS" },
        );
      }
      // The caller's limits, from tokens this isolate holds (a database call once per batch).
      const wait = record.admitRequest(caller);
      if (wait) await wait;
      const body = await readBody(request, declared, config.maxBodyBytes);
      if ("refused" in body) return rpcErrorResponse(null, body.refused);
      const server = servers.serverFor(caller.toolSet);
      return await front.handle(request, body.text, caller, server, record);
    } catch (err) {
      record.failure = err;
      // Refused before its body was read (origin, credentials, limits): the body is drained first,
      // or the edge runtime's Deno drops the connection and the keep-alive request after it.
      await discardUnread(request);
      return fail(err, request);
    }
  };
}

/**
 * Any failure as a JSON answer: ApiErrors as they are (a 401 says how to authenticate), a client
 * that left mid-body as such, anything else with a reference found in the logs.
 */
function failureResponse({ config, log }: HttpDeps) {
  return (err: unknown, request: Request): Response => {
    if (err instanceof ApiError) {
      const res = apiErrorResponse(err);
      if (err.status === 401) {
        res.headers.set(
          "www-authenticate",
          wwwAuthenticate(config, request, err, tenantOf(request.url)),
        );
      }
      return res;
    }
    // A client that went away mid-body is not a failure of ours.
    if (request.signal.aborted) {
      log.info("client_disconnected", { error: err });
      return apiErrorResponse(
        new ApiError("REQUEST_ABORTED", "The connection closed before the request body arrived."),
      );
    }
    const ref = crypto.randomUUID();
    log.error("request_failed", { ref, error: err });
    return apiErrorResponse(
      new ApiError("INTERNAL_ERROR", `Something went wrong on our side (reference ${ref}).`),
      { reference: ref },
    );
  };
}

function routes(
  Hono: typeof import("hono").Hono,
  deps: HttpDeps,
  mcp: Endpoint,
  fail: (err: unknown, request: Request) => Response,
): Hono<Env> {
  const { config, auth, servers, metrics, metering } = deps;
  const app = new Hono<Env>({ strict: false }).basePath(BASE_PATH);

  // Liveness: the process answers. Readiness: it can also reach the database.
  app.get("/health", (c) => c.json({ status: "ok", name: SERVER_NAME, version: SERVER_VERSION }));
  app.get("/ready", async (c) => {
    if (await deps.storeReady()) return c.json({ status: "ready", store: "reachable" });
    throw new ApiError(
      "STORE_UNAVAILABLE",
      "Not ready: the database can't be reached. Retry shortly.",
      { "retry-after": String(config.retryAfterSeconds) },
      { store: "unreachable" },
    );
  });

  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  // `/mcp` serves the caller's own tenant; `/t/<slug>/mcp` names it, for people in several tenants
  // whose clients can't send custom headers.
  for (const path of ["/mcp", "/t/:tenant/mcp"]) {
    // One log line per MCP request, whatever its outcome (preflights and refusals included).
    app.use(path, async (c, next) => {
      const record = new RequestRecord(metering);
      c.set("record", record);
      await next();
      record.finish(c.req.method, c.res.status, c.error ?? record.failure);
    });
    // Preflights are answered before anything else; CORS headers go on every answer, errors too.
    app.use(path, cors(originPolicy));
    app.all(path, (c) => mcp(c.req.raw, c.get("record"), c.req.header("origin") ?? null));
  }
  if (config.userAuth.oauth) {
    app.use(`${METADATA_PATH}/*`, cors({ ...originPolicy, allowedOrigins: "*" }));
    app.get(METADATA_PATH, (c) => c.json(protectedResourceMetadata(config, c.req.raw, undefined)));
    app.get(
      `${METADATA_PATH}/t/:tenant/mcp`,
      (c) => c.json(protectedResourceMetadata(config, c.req.raw, c.req.param("tenant"))),
    );
  }

  app.get("/metrics", (c) => {
    const token = config.metricsToken;
    if (!token || !timingSafeEqual(c.req.header("authorization") ?? "", `Bearer ${token}`)) {
      return notFound();
    }
    const keyLookups = metrics.keyCacheHits + metrics.storeLookups;
    const serverLookups = metrics.serverCacheHits + metrics.serverBuilds;
    return c.json({
      ...metrics,
      cachedServers: servers.size,
      cachedKeys: auth.cachedKeys,
      keyCacheHitRate: keyLookups === 0 ? null : metrics.keyCacheHits / keyLookups,
      serverCacheHitRate: serverLookups === 0 ? null : metrics.serverCacheHits / serverLookups,
      usageQueued: metering.usage?.queued ?? 0,
      limiter: metering.limiter?.stats() ?? null,
      isolate: metering.isolate,
    });
  });

  app.notFound(() => notFound());
  app.onError((err, c) => fail(err, c.req.raw));
  return app;
}

/** The tenant segment of `…/t/<slug>/mcp`, if the URL has one. */
function tenantOf(url: string): string | undefined {
  if (!url.includes("/t/")) return undefined;
  const match = /\/t\/([^/?]+)\/mcp\/?(\?|$)/.exec(url);
  return match ? decodeURIComponent(match[1]) : undefined;
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

const MCP_PATH = `${BASE_PATH}/mcp`;
const TENANT_PREFIX = `${BASE_PATH}/t/`;

/**
 * `<scheme>://<host>/mcp-tools-server/mcp` or `…/t/<slug>/mcp`, with or without a query: no URL
 * object needed on the hot path.
 */
function isMcpPath(url: string): boolean {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  if (path === -1) return false;
  let end: number;
  if (url.startsWith(MCP_PATH, path)) {
    end = path + MCP_PATH.length;
  } else if (url.startsWith(TENANT_PREFIX, path)) {
    const slash = url.indexOf("/", path + TENANT_PREFIX.length);
    if (slash === -1 || !url.startsWith("/mcp", slash)) return false;
    end = slash + "/mcp".length;
  } else {
    return false;
  }
  return end === url.length || url[end] === "?";
}
