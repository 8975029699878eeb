/**
 * The function's HTTP surface: routes under the function's own path segment, origin and CORS
 * guards, the body limit, and the mapping of every failure to a JSON answer.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Authenticator } from "../auth/authenticator.ts";
import { BASE_PATH, type Config, SERVER_NAME, SERVER_VERSION } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { McpFront } from "../mcp/front.ts";
import type { ServerCache } from "../mcp/server_cache.ts";
import { cors } from "./cors.ts";
import { ApiError, apiErrorResponse } from "./errors.ts";
import { checkOrigin } from "./origin.ts";
import { type MeteringDeps, RequestRecord } from "./request_log.ts";

/** What the routes are wired to; the composition root builds every part. */
export interface HttpDeps {
  config: Config;
  auth: Authenticator;
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
  const { config, auth, servers, front, metrics, log, metering } = deps;
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

  // One log line per request to /mcp, whatever its outcome (preflights and refusals included).
  app.use("/mcp", async (c, next) => {
    const record = new RequestRecord(metering);
    c.set("record", record);
    await next();
    record.finish(c.req.method, c.res.status, c.error);
  });

  const originPolicy = { allowedOrigins: config.allowedOrigins, allowedHosts: config.allowedHosts };
  // Preflights are answered before anything else; CORS headers go on every answer, errors too.
  app.use("/mcp", cors(originPolicy));
  app.all(
    "/mcp",
    (c, next) => {
      checkOrigin(c.req.raw, originPolicy);
      return next();
    },
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: () => {
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
      const caller = await auth.authenticate(c.req.raw, record);
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
      const server = servers.serverFor(caller.toolSet);
      return front.handle(c.req.raw, await c.req.text(), caller, server, record);
    },
  );

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

  app.onError((err) => {
    if (err instanceof ApiError) return apiErrorResponse(err);
    const ref = crypto.randomUUID();
    log.error("request_failed", { ref, error: err });
    return apiErrorResponse(
      new ApiError("INTERNAL_ERROR", `Something went wrong on our side (reference ${ref}).`),
      { reference: ref },
    );
  });

  return app as unknown as Hono;
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
