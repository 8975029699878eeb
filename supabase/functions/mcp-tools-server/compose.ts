/**
 * The composition root: the only place the parts are built and wired. index.ts, the tests and the
 * bench all build the function through `composeApp`, so what they run is what is deployed. Tests
 * replace a part (the tenant store, the clock, the catalog) by passing it; everything else is the
 * real thing, and a missing tool service stops start-up here rather than failing a first call.
 */
import { Authenticator } from "./auth/authenticator.ts";
import { Callers } from "./auth/callers.ts";
import { UserAuthenticator } from "./auth/user_authenticator.ts";
import { UserTokenVerifier } from "./auth/user_token.ts";
import {
  type Config,
  ConfigError,
  SERVER_NAME,
  SERVER_VERSION,
  type SupabaseAccess,
  supabaseAccess,
} from "./config.ts";
import { type MemberStore, supabaseMemberStore } from "./data/members.ts";
import { type Rpc, supabaseRpc } from "./data/rpc.ts";
import { supabaseClient } from "./data/supabase_client.ts";
import { cachedTenantSecrets, supabaseTenantSecrets } from "./data/tenant_secrets.ts";
import { supabaseTenantStore, type TenantStore } from "./data/tenant_store.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { Limiter } from "./data/limiter.ts";
import { storeProbe } from "./data/readiness.ts";
import { UsageWriter } from "./data/usage_writer.ts";
import { type Background, createBackground } from "./lib/background.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import { consoleLogger, type Logger, silentLogger } from "./lib/log.ts";
import { createMetrics, type Metrics } from "./lib/metrics.ts";
import { McpFront } from "./mcp/front.ts";
import { serverBuilder } from "./mcp/mcp_lite_server.ts";
import { ServerCache } from "./mcp/server_cache.ts";
import { ToolCatalog } from "./tools/catalog.ts";
import type { RemoteTools } from "./tools/remote/tools.ts";
import {
  type LazyFamily,
  TOOL_SERVICES,
  type ToolFamily,
  type ToolServices,
} from "./tools/contract.ts";
import { FAMILIES } from "./tools/registry.ts";
import type { GuardedFetch, Resolver } from "./upstream/guarded_fetch.ts";

/** Parts a caller may supply instead of the real ones; everything else is built from `config`. */
export interface Overrides {
  /** Where the database is; default: from SUPABASE_URL and the injected service key. */
  supabase?: SupabaseAccess;
  store?: TenantStore;
  /** Memberships of signed-in users; default: the database's, when user tokens are on. */
  members?: MemberStore;
  /** How the issuer's signing keys are fetched when SUPABASE_JWKS lacks one; default fetch. */
  fetchJwks?: typeof fetch;
  clock?: Clock;
  /** Tool families served; default: every family of this deployment (tools/registry.ts). */
  families?: readonly (ToolFamily | LazyFamily)[];
  services?: Partial<ToolServices>;
  /** Name resolution for the upstream address policy; default `node:dns` lookup. */
  resolve?: Resolver;
  metrics?: Metrics;
  log?: Logger;
  /** Where work after the answer runs; default EdgeRuntime.waitUntil or a tracked promise. */
  background?: Background;
  /**
   * false: no request log line, usage events or limits — only for the bench, which measures what
   * they cost against this. Default true.
   */
  metering?: boolean;
}

export interface Composed {
  app: HttpApp;
  metrics: Metrics;
  /** Work still running after answers (usage writes): tests and a graceful stop await it. */
  background: Background;
}

export function composeApp(config: Config, overrides: Overrides = {}): Composed {
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics();
  const log = overrides.log ?? consoleLogger;
  const serverInfo = { name: SERVER_NAME, version: SERVER_VERSION };

  // One database client for the store and every tool; built only if some part needs it.
  let rpc: Rpc | undefined;
  const database = () =>
    rpc ??= supabaseRpc(
      supabaseClient(overrides.supabase ?? supabaseAccess(config), config.storeTimeoutMs),
    );

  // Built on first use, like `database`, so a composition without a database still starts.
  const lazyDatabase: Rpc = { call: (fn, args) => database().call(fn, args) };
  const background = overrides.background ?? createBackground();
  const isolate = config.executionId ?? `local-${crypto.randomUUID().slice(0, 8)}`;
  // Limits live in the tenant database: with another tenant store (unit tests) there are none.
  const metering = overrides.metering ?? true;
  const limiter = overrides.store || !metering ? undefined : new Limiter({
    rpc: lazyDatabase,
    clock,
    metrics,
    log,
    batch: Math.max(1, config.limitLeaseBatch),
    ttlMs: config.tenantCacheTtlMs,
    failOpenMs: config.negativeCacheTtlMs,
    background,
  });
  // The key lookup says whether any limit applies: a key without one asks the limiter nothing.
  const store = overrides.store ?? supabaseTenantStore(database(), {
    unlimited: limiter && ((record) => limiter.unlimited(record)),
  });
  const given = overrides.services ?? {};
  const services = requireServices({
    ...buildToolServices(config, { database, clock, resolve: overrides.resolve, skip: given }),
    ...given,
  });
  const catalog = new ToolCatalog(overrides.families ?? FAMILIES);

  // Remote MCP servers' client is imported when a tenant first has one attached, not at start-up.
  let remoteTools: Promise<RemoteTools> | undefined;
  const remote = () =>
    remoteTools ??= import("./tools/remote/tools.ts").then(({ RemoteTools }) =>
      new RemoteTools({
        services,
        clock,
        log,
        ttlMs: config.remoteToolsTtlMs,
        listTimeoutMs: config.remoteListTimeoutMs,
      })
    ).catch((err) => {
      remoteTools = undefined; // a failed import is tried again by the next request
      throw err;
    });
  const auth = new Authenticator({ config, store, clock, catalog, metrics, log, remote });
  const users = config.userAuth.enabled
    ? new UserAuthenticator({
      config,
      verifier: userTokenVerifier(config, clock, overrides.fetchJwks),
      members: overrides.members ?? supabaseMemberStore(database()),
      clock,
      catalog,
      metrics,
      log,
    })
    : undefined;
  const servers = new ServerCache({
    maxEntries: config.serverCacheMax,
    idleMs: config.serverIdleMs,
    clock,
    metrics,
    build: serverBuilder({ services, log, serverInfo }),
  });
  const front = new McpFront({ serverInfo, toolsTtlMs: config.tenantCacheTtlMs });

  const usage = config.usageBatchSize === 0 || !metering ? undefined : new UsageWriter({
    rpc: lazyDatabase,
    background,
    metrics,
    log,
    batchSize: config.usageBatchSize,
    flushMs: config.usageFlushMs,
    maxQueued: config.usageQueueMax,
    retries: config.usageFlushRetries,
    retryDelayMs: 200,
    retentionDays: config.usageRetentionDays,
    now: () => clock.now(),
  });
  const storeReady = storeProbe(lazyDatabase, { clock, cacheMs: config.readyCacheMs, log });
  const callers = new Callers(auth, users);
  const app = createHttpApp({
    config,
    auth,
    callers,
    servers,
    front,
    metrics,
    log,
    metering: { limiter, usage, isolate, log: metering ? log : silentLogger },
    storeReady,
  });
  return { app, metrics, background };
}

function userTokenVerifier(config: Config, clock: Clock, fetchJwks?: typeof fetch) {
  const { issuer, audience, jwks, jwksRefreshMs, legacySecret } = config.userAuth;
  if (!issuer) {
    throw new ConfigError("MCP_USER_TOKENS is on but neither AUTH_ISSUER nor SUPABASE_URL is set.");
  }
  return new UserTokenVerifier({
    issuer,
    audience,
    jwks,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    jwksRefreshMs,
    legacySecret,
    clock,
    fetchJwks,
  });
}

/** The real tool services for `config`, except those in `skip` (supplied by the caller). */
export function buildToolServices(
  config: Config,
  parts: { database: () => Rpc; clock: Clock; resolve?: Resolver; skip?: Partial<ToolServices> },
): Partial<ToolServices> {
  const { database, clock, skip = {} } = parts;
  return {
    db: skip.db ?? database(),
    tenantSecrets: skip.tenantSecrets ?? cachedTenantSecrets(
      supabaseTenantSecrets(database(), { localKey: config.tenantSecretsKey }),
      { ttlMs: config.tenantSecretsTtlMs, maxEntries: config.tenantSecretsCacheMax, clock },
    ),
    upstreamFetch: skip.upstreamFetch ?? lazyGuardedFetch(config, parts.resolve),
  };
}

/**
 * The guarded fetch with its address policy, imported by the first upstream call: only some tools
 * reach upstream APIs, and a worker's first request needs none of it. The allow-list's entries
 * were checked when the configuration was read.
 */
function lazyGuardedFetch(config: Config, resolve?: Resolver): GuardedFetch {
  let guarded: Promise<GuardedFetch> | undefined;
  const load = () =>
    guarded ??= Promise.all([
      import("./upstream/guarded_fetch.ts"),
      import("./upstream/address_policy.ts"),
    ]).then(([{ createGuardedFetch }, { AllowList }]) =>
      createGuardedFetch({
        allow: new AllowList(config.upstreamAllowHosts),
        timeoutMs: config.upstreamTimeoutMs,
        maxResponseBytes: config.upstreamMaxResponseBytes,
        maxRedirects: config.upstreamMaxRedirects,
        resolve,
        userAgent: `${SERVER_NAME}/${SERVER_VERSION}`,
      })
    ).catch((err) => {
      guarded = undefined; // a failed import is tried again by the next call
      throw err;
    });
  return async (request) => (await load())(request);
}

/** Every tool service present, or a start-up error naming the missing ones. */
export function requireServices(services: Partial<ToolServices>): ToolServices {
  const missing = TOOL_SERVICES.filter((name) => !services[name]);
  const { db, tenantSecrets, upstreamFetch } = services;
  if (!db || !tenantSecrets || !upstreamFetch) {
    throw new ConfigError(
      `Tool services missing: ${missing.join(", ")}. The function cannot serve its tools ` +
        "without them; check how it is composed (compose.ts).",
    );
  }
  return { db, tenantSecrets, upstreamFetch };
}
