/**
 * Every setting the function reads from its environment, declared once: each entry names its
 * variable, its kind, its default and what it is for. A small reader below parses them (no schema
 * library: this module is on every worker's start-up path), and the README's configuration table
 * is generated from the same list (`configTable`); a test keeps the two equal.
 */

/** The function's name on Supabase: its URL path segment and its MCP server name. */
export const SERVER_NAME = "mcp-tools-server";
export const SERVER_VERSION = "0.1.0";
/** Supabase hands the function its own name as the first path segment. */
export const BASE_PATH = `/${SERVER_NAME}`;

/** One variable: how its text is read (throws `Invalid` with what is wrong), and its docs. */
interface Setting<T> {
  description: string;
  /** How the default reads in the docs; absent: no default (unset). */
  default?: string;
  read(raw: string | undefined): T;
}

/** A value a setting refuses; the message follows the variable's name. */
class Invalid extends Error {}

/** A whole number ≥ 0 given as text; blank means `fallback`. */
function wholeOr<F extends number | undefined>(
  fallback: F,
  description: string,
): Setting<number | F> {
  return {
    description,
    default: fallback === undefined ? undefined : String(fallback),
    read(raw) {
      if (raw === undefined || raw.trim() === "") return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) {
        throw new Invalid(`must be a whole number ≥ 0, got "${raw}"`);
      }
      return value;
    },
  };
}

const whole = (fallback: number, description: string) => wholeOr(fallback, description);
const optionalWhole = (description: string) => wholeOr(undefined, description);

/** Free text; blank means unset. */
function text(description: string): Setting<string | undefined> {
  return { description, read: (raw) => raw?.trim() || undefined };
}

/** Free text; blank means `fallback`. */
function textOr(fallback: string, description: string, lowerCase = false): Setting<string> {
  return {
    description,
    default: fallback,
    read: (raw) => (lowerCase ? raw?.trim().toLowerCase() : raw?.trim()) || fallback,
  };
}

/** on/off (also true/false, 1/0, yes/no); blank means off. */
function flag(description: string): Setting<boolean> {
  return {
    description,
    default: "off",
    read(raw) {
      const value = (raw ?? "").trim().toLowerCase();
      if (["", "0", "off", "false", "no"].includes(value)) return false;
      if (["1", "on", "true", "yes"].includes(value)) return true;
      throw new Invalid(`must be on or off, got "${raw}"`);
    },
  };
}

const items = (raw: string | undefined) =>
  (raw ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");

/** A comma-separated list, blanks dropped. */
function list(description: string): Setting<string[]> {
  return { description, read: items };
}

/**
 * An allow-list entry, `host:port` (`[::1]:8080` for IPv6, `*` for any port): its host and port,
 * or null. The one definition of that format: upstream/address_policy.ts's AllowList reads entries
 * with it, and the setting below refuses a malformed one at start-up.
 */
export function hostPortEntry(entry: string): { host: string; port: string } | null {
  const match = /^(\[[^\]]+\]|[^:\[\]]+):(\d{1,5}|\*)$/.exec(entry);
  return match ? { host: match[1], port: match[2] } : null;
}

export const HOST_PORT_FORMAT = "host:port (e.g. 127.0.0.1:8787, [::1]:8787, localhost:*)";

/** A comma-separated list of `host:port` entries, blanks dropped. */
function hostPorts(description: string): Setting<string[]> {
  return {
    description,
    read(raw) {
      const entries = items(raw);
      const bad = entries.find((entry) => !hostPortEntry(entry));
      if (bad !== undefined) throw new Invalid(`entry "${bad}" must be ${HOST_PORT_FORMAT}`);
      return entries;
    },
  };
}

const origins: Setting<readonly string[] | "*"> = {
  description: "Browser origins allowed besides localhost ones, comma-separated; `*` allows any.",
  read(raw) {
    const entries = items(raw);
    if (entries.includes("*")) return "*";
    return entries.map((origin) => {
      try {
        return new URL(origin).origin;
      } catch {
        throw new Invalid(`"${origin}" is not an origin like https://app.example.com`);
      }
    });
  },
};

/** The environment, by variable name. Order is the order of the README table. */
const ENVIRONMENT = {
  TENANT_CACHE_TTL_MS: whole(
    30_000,
    "How long a resolved key (tenant, tools, status) is reused before asking the database again.",
  ),
  TENANT_NEGATIVE_TTL_MS: whole(
    5_000,
    "How long an unknown key is remembered as unknown (keeps garbage off the database).",
  ),
  TENANT_CACHE_MAX: whole(10_000, "Upper bound on remembered keys per isolate."),
  TENANT_NEGATIVE_CACHE_MAX: whole(
    10_000,
    "Upper bound on keys remembered as unknown, kept apart so they never evict a known key.",
  ),
  TENANT_STALE_MS: whole(
    300_000,
    "How long past its TTL a resolved key keeps working while the database is unreachable.",
  ),
  KEY_FAILURES_PER_ADDRESS: whole(
    30,
    "Unknown or damaged keys one client address may send per window before 429; 0: no limit.",
  ),
  KEY_FAILURES_PER_KEY_ID: whole(
    10,
    "Failed attempts on one key id (the public part of a key) per window before 429; 0: no limit.",
  ),
  KEY_FAILURE_WINDOW_MS: whole(60_000, "The window of the two key-failure budgets above."),
  CLIENT_ADDRESS_HEADER: textOr(
    "x-forwarded-for",
    "Header holding the client's address (its first entry), as Supabase's gateway sets it.",
    true,
  ),
  SERVER_CACHE_MAX: whole(100, "Upper bound on built servers (one per distinct tool set)."),
  SERVER_CACHE_IDLE_MS: whole(600_000, "A server unused this long is dropped."),
  STORE_TIMEOUT_MS: whole(5_000, "Give up on a database call after this long (then 503)."),
  STORE_RETRY_AFTER_S: whole(5, "Seconds clients are told to wait after a 503."),
  MAX_BODY_BYTES: whole(1024 * 1024, "Largest accepted request body."),
  MCP_METRICS_TOKEN: text("Bearer token for `GET /metrics`; the route does not exist without it."),
  MCP_ALLOWED_ORIGINS: origins,
  MCP_ALLOWED_HOSTS: list(
    "Hosts the function answers to, comma-separated (DNS-rebinding guard); empty: any host.",
  ),
  UPSTREAM_TIMEOUT_MS: whole(10_000, "Upper bound for one upstream API call, redirects included."),
  UPSTREAM_MAX_RESPONSE_BYTES: whole(1024 * 1024, "Largest upstream response body accepted."),
  UPSTREAM_MAX_REDIRECTS: whole(3, "Redirects followed per upstream call, each checked again."),
  UPSTREAM_ALLOW_HOSTS: hostPorts(
    "`host:port` entries reachable although private or loopback (local development only).",
  ),
  REMOTE_TOOLS_TTL_MS: whole(
    30_000,
    "How long a remote MCP server's tool list is reused before asking it again.",
  ),
  REMOTE_LIST_TIMEOUT_MS: whole(
    2_000,
    "Longest wait for a remote MCP server's tool list; past it, only its tools are left out.",
  ),
  TENANT_SECRETS_TTL_MS: whole(
    60_000,
    "How long a tenant's upstream credentials are reused before asking the database again.",
  ),
  TENANT_SECRETS_CACHE_MAX: whole(1_000, "Upper bound on cached credential sets per isolate."),
  TENANT_SECRETS_KEY: text(
    "Decrypts tenant secrets kept with pgcrypto where Vault is absent. Not needed with Vault.",
  ),
  MCP_USER_TOKENS: flag(
    "Accept Supabase Auth access tokens (people signed in to the project) besides API keys.",
  ),
  MCP_OAUTH: flag(
    "Advertise OAuth sign-in to MCP clients (RFC 9728 metadata, linked from 401s). Needs `MCP_USER_TOKENS`.",
  ),
  MCP_PUBLIC_URL: text(
    "The function's public URL (`https://<ref>.supabase.co/functions/v1/mcp-tools-server`); default: from the request.",
  ),
  AUTH_ISSUER: text("Issuer of accepted user tokens; default `<SUPABASE_URL>/auth/v1`."),
  AUTH_AUDIENCE: textOr("authenticated", "Audience accepted user tokens must name."),
  AUTH_JWKS_REFRESH_MS: whole(
    30_000,
    "Least time between two fetches of the signing keys when a token names an unknown key id.",
  ),
  AUTH_LEGACY_JWT_SECRET: text(
    "Accept legacy HS256 user tokens signed with this secret. Unset: HS256 tokens are refused.",
  ),
  USAGE_BATCH_SIZE: whole(
    2_000,
    "Usage events per database write (a full batch is written at once); 0 turns them off.",
  ),
  USAGE_FLUSH_MS: whole(1_000, "Longest a usage event waits in memory for its batch to fill."),
  USAGE_QUEUE_MAX: whole(
    10_000,
    "Usage events held while the database is down; beyond, new ones are dropped and counted.",
  ),
  USAGE_FLUSH_RETRIES: whole(
    3,
    "Further attempts to write a batch after the database was unreachable.",
  ),
  USAGE_RETENTION_DAYS: whole(
    30,
    "Days raw usage events are kept; older ones are rolled up per day, then deleted. 0: forever.",
  ),
  LIMIT_LEASE_BATCH: whole(
    500,
    "Largest lease of a limit's tokens per database call (B); see Usage, limits and logs.",
  ),
  READY_CACHE_MS: whole(2_000, "How long `GET /ready` reuses its last database probe."),
  MCP_FUNCTION_PORT: optionalWhole(
    "Port to listen on, for running outside the edge runtime (the runtime picks its own).",
  ),
  SUPABASE_URL: text("Injected by Supabase: the project's API URL."),
  SUPABASE_SECRET_KEYS: text(
    'Injected by Supabase: new-style secret keys as JSON (`{"default":"sb_secret_…"}`).',
  ),
  SUPABASE_SERVICE_ROLE_KEY: text(
    "Injected by Supabase: the legacy service-role JWT, used when no secret key is set.",
  ),
  SUPABASE_JWKS: text(
    "Injected by Supabase: the project's public signing keys; without it they are fetched from the issuer.",
  ),
  SB_EXECUTION_ID: text(
    "Injected by Supabase (hosted): names the isolate in logs and usage events.",
  ),
} satisfies Record<string, Setting<unknown>>;

export type EnvironmentName = keyof typeof ENVIRONMENT;

type Environment = { [K in EnvironmentName]: ReturnType<(typeof ENVIRONMENT)[K]["read"]> };

/** Every variable read; all that are malformed named at once. */
function readEnvironment(env: Env): Environment {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(ENVIRONMENT)) {
    try {
      values[name] = setting.read(env(name));
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push(`${name} ${err.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("; "));
  return values as Environment;
}

function configOf(e: Environment) {
  return {
    tenantCacheTtlMs: e.TENANT_CACHE_TTL_MS,
    negativeCacheTtlMs: e.TENANT_NEGATIVE_TTL_MS,
    tenantCacheMax: e.TENANT_CACHE_MAX,
    negativeCacheMax: e.TENANT_NEGATIVE_CACHE_MAX,
    staleKeyMs: e.TENANT_STALE_MS,
    keyFailuresPerAddress: e.KEY_FAILURES_PER_ADDRESS,
    keyFailuresPerKeyId: e.KEY_FAILURES_PER_KEY_ID,
    keyFailureWindowMs: e.KEY_FAILURE_WINDOW_MS,
    clientAddressHeader: e.CLIENT_ADDRESS_HEADER,
    serverCacheMax: e.SERVER_CACHE_MAX,
    serverIdleMs: e.SERVER_CACHE_IDLE_MS,
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    retryAfterSeconds: e.STORE_RETRY_AFTER_S,
    maxBodyBytes: e.MAX_BODY_BYTES,
    metricsToken: e.MCP_METRICS_TOKEN,
    allowedOrigins: e.MCP_ALLOWED_ORIGINS,
    allowedHosts: e.MCP_ALLOWED_HOSTS.map((host) => host.toLowerCase()),
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    upstreamMaxResponseBytes: e.UPSTREAM_MAX_RESPONSE_BYTES,
    upstreamMaxRedirects: e.UPSTREAM_MAX_REDIRECTS,
    upstreamAllowHosts: e.UPSTREAM_ALLOW_HOSTS,
    remoteToolsTtlMs: e.REMOTE_TOOLS_TTL_MS,
    remoteListTimeoutMs: e.REMOTE_LIST_TIMEOUT_MS,
    tenantSecretsTtlMs: e.TENANT_SECRETS_TTL_MS,
    tenantSecretsCacheMax: e.TENANT_SECRETS_CACHE_MAX,
    tenantSecretsKey: e.TENANT_SECRETS_KEY,
    usageBatchSize: e.USAGE_BATCH_SIZE,
    usageFlushMs: e.USAGE_FLUSH_MS,
    usageQueueMax: e.USAGE_QUEUE_MAX,
    usageFlushRetries: e.USAGE_FLUSH_RETRIES,
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
    limitLeaseBatch: e.LIMIT_LEASE_BATCH,
    readyCacheMs: e.READY_CACHE_MS,
    executionId: e.SB_EXECUTION_ID,
    port: e.MCP_FUNCTION_PORT,
    userAuth: {
      enabled: e.MCP_USER_TOKENS,
      oauth: e.MCP_OAUTH,
      publicUrl: e.MCP_PUBLIC_URL?.replace(/\/+$/, ""),
      issuer: e.AUTH_ISSUER ??
        (e.SUPABASE_URL ? `${e.SUPABASE_URL.replace(/\/+$/, "")}/auth/v1` : undefined),
      audience: e.AUTH_AUDIENCE,
      jwks: e.SUPABASE_JWKS,
      jwksRefreshMs: e.AUTH_JWKS_REFRESH_MS,
      legacySecret: e.AUTH_LEGACY_JWT_SECRET,
    },
    supabase: {
      url: e.SUPABASE_URL,
      key: secretKeyFrom(e.SUPABASE_SECRET_KEYS) ?? e.SUPABASE_SERVICE_ROLE_KEY,
    },
  };
}

export type Config = ReturnType<typeof configOf>;

type Env = (name: string) => string | undefined;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Parses the environment; a malformed value stops start-up, naming the variable. */
export function loadConfig(env: Env, overrides: Partial<Config> = {}): Config {
  const config = { ...configOf(readEnvironment(env)), ...overrides };
  if (config.userAuth.oauth && !config.userAuth.enabled) {
    throw new ConfigError("MCP_OAUTH needs MCP_USER_TOKENS=on: OAuth sign-in yields user tokens.");
  }
  return config;
}

export interface SupabaseAccess {
  url: string;
  key: string;
}

/**
 * Where the project's database is reached. Hosted projects inject SUPABASE_SECRET_KEYS (new-style
 * keys) and/or SUPABASE_SERVICE_ROLE_KEY (legacy JWT); either works.
 */
export function supabaseAccess(config: Config): SupabaseAccess {
  const { url, key } = config.supabase;
  if (!url) throw new ConfigError("SUPABASE_URL is not set");
  if (!key) {
    throw new ConfigError("Neither SUPABASE_SECRET_KEYS nor SUPABASE_SERVICE_ROLE_KEY is set");
  }
  return { url, key };
}

function secretKeyFrom(json: string | undefined): string | undefined {
  if (!json) return undefined;
  try {
    const keys: unknown = JSON.parse(json);
    if (typeof keys !== "object" || keys === null) return undefined;
    const values = Object.entries(keys);
    const key = values.find(([name]) => name === "default")?.[1] ?? values[0]?.[1];
    return typeof key === "string" && key ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The README's configuration table, from the declarations above. */
export function configTable(): string {
  const rows = Object.entries(ENVIRONMENT).map(([name, setting]: [string, Setting<unknown>]) => {
    const fallback = setting.default === undefined ? "—" : `\`${setting.default}\``;
    return `| \`${name}\` | ${fallback} | ${setting.description} |`;
  });
  return ["| variable | default | what it does |", "|---|---|---|", ...rows].join("\n");
}
