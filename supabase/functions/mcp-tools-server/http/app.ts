/**
 * The function's HTTP surface: routes under the function's own path segment, origin and CORS
 * guards, the body limit, and the mapping of every failure to a JSON answer.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Authenticator } from "../auth/authenticator.ts";
import type { Callers } from "../auth/callers.ts";
import { BASE_PATH, type Config, SERVER_NAME, SERVER_VERSION } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { McpFront } from "../mcp/front.ts";
import type { ServerCache } from "../mcp/server_cache.ts";
import { rpcErrorResponse } from "../mcp/protocol/jsonrpc.ts";
import { readBoundedBody } from "./body.ts";
import { cors } from "./cors.ts";
import { ApiError, apiErrorResponse } from "./errors.ts";
import { checkOrigin } from "./origin.ts";
import { METADATA_PATH, protectedResourceMetadata, wwwAuthenticate } from "./oauth.ts";

/**
 * An oversized body is refused from its Content-Length, before it is read. Answering while the
 * client still sends makes the edge runtime's Deno (2.1.4) close the connection with unread data,
 * which resets it: the client (or the gateway in front) loses the 413 and sees "fetch failed".
 * Reading the rest and throwing it away first lets the answer arrive; past this many bytes the
 * connection is given up on instead.
 */
const DISCARD_MAX_BYTES = 16 * 1024 * 1024;

/** Reads and drops what is left of `request`'s body, up to `max` bytes. */
async function discardBody(request: Request, max: number): Promise<void> {
  if (!request.body || request.bodyUsed || request.body.locked) return;
  const reader = request.body.getReader();
  let seen = 0;
  try {
    while (seen <= max) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: nothing left to drain.
  }
}
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

type Env = { Variables: { record: RequestRecord } };

export function createHttpApp(deps: HttpDeps): Hono {
  const { config, auth, callers, servers, front, metrics, log, metering } = deps;
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

  // One log line per MCP request, whatever its outcome (preflights and refusals included).
  for (const path of ["/mcp", "/t/:tenant/mcp"]) {
    app.use(path, async (c, next) => {
      const record = new RequestRecord(metering);
      c.set("record", record);
      await next();
      record.finish(c.req.method, c.res.status, c.error);
    });
  }

  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  // Preflights are answered before anything else; CORS headers go on every answer, errors too.
  app.use("/mcp", cors(originPolicy));
  app.use("/t/:tenant/mcp", cors(originPolicy));
  if (config.userAuth.oauth) {
    app.use(`${METADATA_PATH}/*`, cors({ ...originPolicy, allowedOrigins: "*" }));
    app.get(METADATA_PATH, (c) => c.json(protectedResourceMetadata(config, c.req.raw, undefined)));
    app.get(
      `${METADATA_PATH}/t/:tenant/mcp`,
      (c) => c.json(protectedResourceMetadata(config, c.req.raw, c.req.param("tenant"))),
    );
  }
  // `/mcp` serves the caller's own tenant; `/t/<slug>/mcp` names it, for people in several tenants
  // whose clients can't send custom headers.
  for (const path of ["/mcp", "/t/:tenant/mcp"]) {
    app.all(
      path,
      (c, next) => {
        checkOrigin(c.req.raw, originPolicy);
        return next();
      },
      bodyLimit({
        maxSize: config.maxBodyBytes,
        onError: async (c) => {
          await discardBody(c.req.raw, DISCARD_MAX_BYTES);
          throw new ApiError(
            "PAYLOAD_TOO_LARGE",
            `The request body is larger than ${config.maxBodyBytes} bytes.`,
          );
        },
      }),
      async (c) => {
        metrics.requests++;
        const record = c.get("record");
        // Authentication first, the same in both protocol eras.
        const caller = await callers.authenticate(c.req.raw, tenantOf(c.req.path), record);
        // After authentication, so an anonymous probe learns nothing but "authenticate".
        if (c.req.method !== "POST") {
          throw new ApiError(
            "METHOD_NOT_ALLOWED",
            "This endpoint takes JSON-RPC messages by POST only; there are no sessions or GET streams.",
            { allow: "POST, OPTIONS" },
          );
        }
        // The caller's limits, from tokens this isolate holds (a database call once per batch).
        const wait = record.admitRequest(caller);
        if (wait) await wait;
        const body = await readBoundedBody(c.req.raw);
        if ("refused" in body) return rpcErrorResponse(null, body.refused);
        const server = servers.serverFor(caller.toolSet);
        return front.handle(c.req.raw, body.text, caller, server, record);
      },
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

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      const res = apiErrorResponse(err);
      if (err.status === 401) {
        const tenant = tenantOf(c.req.path);
        res.headers.set("www-authenticate", wwwAuthenticate(config, c.req.raw, err, tenant));
      }
      return res;
    }
    // A client that went away mid-body is not a failure of ours.
    if (c.req.raw.signal.aborted) {
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
  });

  return app as unknown as Hono;
}

/** The tenant segment of `/…/t/<slug>/mcp`, if the path has one. */
function tenantOf(path: string): string | undefined {
  const match = /\/t\/([^/]+)\/mcp\/?$/.exec(path);
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
