/** Runtime settings, read once per isolate from the environment. */

export interface Config {
  /** How long a resolved key (tenant, tools, status) is reused before asking the store again. */
  tenantCacheTtlMs: number;
  /** How long an unknown key is remembered as unknown (keeps garbage off the database). */
  negativeCacheTtlMs: number;
  /** Upper bound on remembered keys per isolate. */
  tenantCacheMax: number;
  /** Upper bound on built servers (one per distinct tool set) per isolate. */
  serverCacheMax: number;
  /** A server unused for this long is dropped and rebuilt on next use. */
  serverIdleMs: number;
  /** Give up on a store lookup after this long and answer 503. */
  storeTimeoutMs: number;
  /** Seconds clients are told to wait after a 503. */
  retryAfterSeconds: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Bearer token for GET /metrics; the route does not exist without it. */
  metricsToken?: string;
  /** Upper bound for one upstream API call (HTTP tools), redirects and body included. */
  upstreamTimeoutMs: number;
  /** Largest upstream response body accepted. */
  upstreamMaxResponseBytes: number;
  /** Redirects followed per upstream call, each checked like the first hop. */
  upstreamMaxRedirects: number;
  /** `host:port` entries reachable although private/loopback (local development only). */
  upstreamAllowHosts: string[];
  /** How long a tenant's upstream credentials are reused before asking the database again. */
  tenantSecretsTtlMs: number;
}

export const SERVER_NAME = "mcp-tools-server";
export const SERVER_VERSION = "0.1.0";

const DEFAULTS: Omit<Config, "metricsToken" | "upstreamAllowHosts"> = {
  tenantCacheTtlMs: 30_000,
  negativeCacheTtlMs: 5_000,
  tenantCacheMax: 10_000,
  serverCacheMax: 100,
  serverIdleMs: 10 * 60_000,
  storeTimeoutMs: 5_000,
  retryAfterSeconds: 5,
  maxBodyBytes: 1024 * 1024,
  upstreamTimeoutMs: 10_000,
  upstreamMaxResponseBytes: 1024 * 1024,
  upstreamMaxRedirects: 3,
  tenantSecretsTtlMs: 60_000,
};

const ENV_NAMES: Record<keyof typeof DEFAULTS, string> = {
  tenantCacheTtlMs: "TENANT_CACHE_TTL_MS",
  negativeCacheTtlMs: "TENANT_NEGATIVE_TTL_MS",
  tenantCacheMax: "TENANT_CACHE_MAX",
  serverCacheMax: "SERVER_CACHE_MAX",
  serverIdleMs: "SERVER_CACHE_IDLE_MS",
  storeTimeoutMs: "STORE_TIMEOUT_MS",
  retryAfterSeconds: "STORE_RETRY_AFTER_S",
  maxBodyBytes: "MAX_BODY_BYTES",
  upstreamTimeoutMs: "UPSTREAM_TIMEOUT_MS",
  upstreamMaxResponseBytes: "UPSTREAM_MAX_RESPONSE_BYTES",
  upstreamMaxRedirects: "UPSTREAM_MAX_REDIRECTS",
  tenantSecretsTtlMs: "TENANT_SECRETS_TTL_MS",
};

type Env = (name: string) => string | undefined;

/** Defaults, overridden by environment variables; a malformed value stops start-up. */
export function loadConfig(env: Env, overrides: Partial<Config> = {}): Config {
  const config = { ...DEFAULTS } as Config;
  for (const [field, name] of Object.entries(ENV_NAMES) as [keyof typeof DEFAULTS, string][]) {
    const raw = env(name);
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`${name} must be a whole number ≥ 0, got "${raw}"`);
    }
    config[field] = value;
  }
  const metricsToken = env("MCP_METRICS_TOKEN");
  if (metricsToken) config.metricsToken = metricsToken;
  config.upstreamAllowHosts = (env("UPSTREAM_ALLOW_HOSTS") ?? "").split(",")
    .map((entry) => entry.trim()).filter(Boolean);
  return { ...config, ...overrides };
}

export interface SupabaseAccess {
  url: string;
  key: string;
}

/**
 * Where the tenant store lives. Hosted projects inject SUPABASE_SECRET_KEYS (new-style keys)
 * and/or SUPABASE_SERVICE_ROLE_KEY (legacy JWT); either works.
 */
export function loadSupabaseAccess(env: Env): SupabaseAccess {
  const url = env("SUPABASE_URL");
  if (!url) throw new Error("SUPABASE_URL is not set");
  const key = secretKeyFrom(env("SUPABASE_SECRET_KEYS")) ?? env("SUPABASE_SERVICE_ROLE_KEY");
  if (!key) {
    throw new Error("Neither SUPABASE_SECRET_KEYS nor SUPABASE_SERVICE_ROLE_KEY is set");
  }
  return { url, key };
}

function secretKeyFrom(json: string | undefined): string | undefined {
  if (!json) return undefined;
  try {
    const keys = JSON.parse(json) as Record<string, unknown>;
    const key = keys.default ?? Object.values(keys)[0];
    return typeof key === "string" && key ? key : undefined;
  } catch {
    return undefined;
  }
}
