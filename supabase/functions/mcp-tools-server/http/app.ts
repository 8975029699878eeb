/**
 * The function's HTTP surface. Supabase hands the function its own name as the first path
 * segment, so every route lives under /mcp-tools-server.
 */
import { FAMILIES } from "../tools/registry.ts";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Authenticator } from "../auth/authenticator.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { type Config, SERVER_NAME, SERVER_VERSION } from "../config.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { consoleLogger, type Logger } from "../lib/log.ts";
import { buildServer, type BuiltServer } from "../mcp/server.ts";
import { createMetrics, type Metrics } from "../lib/metrics.ts";
import { cors } from "./cors.ts";
import { handleMcp } from "../mcp/front.ts";
import { checkOrigin } from "./origin.ts";
import { LruCache } from "../lib/lru_cache.ts";
import type { TenantStore } from "../data/tenant_store.ts";
import { ToolCatalog } from "../tools/catalog.ts";
import type { ToolServices } from "../tools/contract.ts";

export const BASE_PATH = "/mcp-tools-server";

/** Everything the app depends on, in one object, so tests build the real app on a test stack. */
export interface AppDeps {
  config: Config;
  store: TenantStore;
  clock?: Clock;
  catalog?: ToolCatalog;
  /** What tools use to reach data and upstream APIs; default: none. */
  services?: ToolServices;
  metrics?: Metrics;
  log?: Logger;
}

export function createApp(deps: AppDeps): Hono {
  const { config, store } = deps;
  const clock = deps.clock ?? systemClock;
  const catalog = deps.catalog ?? new ToolCatalog(FAMILIES);
  const metrics = deps.metrics ?? createMetrics();
  const log = deps.log ?? consoleLogger;
  const serverDeps = { services: deps.services ?? {}, log, toolsTtlMs: config.tenantCacheTtlMs };

  const auth = new Authenticator({ config, store, clock, catalog, metrics, log });
  const servers = new LruCache<BuiltServer>({
    maxEntries: config.serverCacheMax,
    idleMs: config.serverIdleMs,
    clock,
  });
  const serverEvents = {
    onHit: () => metrics.serverCacheHits++,
    onEvict: () => metrics.serverEvictions++,
  };

  const app = new Hono({ strict: false }).basePath(BASE_PATH);

  app.get("/health", (c) => c.json({ status: "ok", name: SERVER_NAME, version: SERVER_VERSION }));

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
      // Authentication first, the same in both protocol eras.
      const caller = await auth.authenticate(c.req.raw);
      const server = servers.getOrCreate(caller.toolSet.fingerprint, () => {
        metrics.serverBuilds++;
        return buildServer(caller.toolSet, serverDeps);
      }, serverEvents);
      return handleMcp(c.req.raw, caller, server);
    },
  );

  app.get("/metrics", (c) => {
    const token = config.metricsToken;
    if (!token || !timingSafeEqual(c.req.header("authorization") ?? "", `Bearer ${token}`)) {
      return notFound();
    }
    return c.json({
      ...metrics,
      cachedServers: servers.size,
      cachedKeys: auth.cachedKeys,
    });
  });

  app.notFound(() => notFound());

  app.onError((err) => {
    if (err instanceof ApiError) return errorResponse(err);
    const ref = crypto.randomUUID();
    log.error("request_failed", { ref, error: err });
    return errorResponse(
      new ApiError("INTERNAL_ERROR", `Something went wrong on our side (reference ${ref}).`),
      { reference: ref },
    );
  });

  return app;
}

function notFound(): Response {
  return errorResponse(
    new ApiError(
      "NOT_FOUND",
      `No such endpoint. MCP clients connect to ${BASE_PATH}/mcp ` +
        "(e.g. https://<project>.supabase.co/functions/v1/mcp-tools-server/mcp).",
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
