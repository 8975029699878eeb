/**
 * Who is calling: API key → (cached) key record → a Caller, or an ApiError saying why not.
 * The cache holds the derived Caller under the key itself, so a warm request costs one Map
 * lookup; the key is hashed (and its checksum checked) only when it is looked up in the store,
 * which holds nothing but hashes.
 */
import { checksumMatches, type ParsedKey, sha256Hex } from "./api_key.ts";
import type { Clock } from "../lib/clock.ts";
import type { Config } from "../config.ts";
import { parseKeyText, readKeyText } from "./credentials.ts";
import { ApiError } from "../lib/api_error.ts";
import { TtlCache } from "../lib/ttl_cache.ts";
import { FailureBudget } from "../lib/failure_budget.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ToolCatalog, ToolSet } from "../tools/catalog.ts";
import type { TenantContext } from "../tools/contract.ts";
import { type KeyRecord, StoreUnavailableError, type TenantStore } from "../data/tenant_store.ts";
import type { RemoteServer } from "../data/remote_servers.ts";
import type { RemoteTools } from "../tools/remote/tools.ts";

/** An authenticated caller: what its key grants, checked again on every request. */
export interface Caller {
  /** Safe to log: the key's public prefix. */
  label: string;
  keyId: string;
  /** Safe to log: the first characters of the key. */
  keyPrefix: string;
  expiresAt: number | null;
  revokedAt: number | null;
  tenantStatus: string;
  tenant: TenantContext;
  toolSet: ToolSet;
  /** Remote MCP servers the tenant attached; their tools join toolSet per request. */
  remoteServers: readonly RemoteServer[];
  /** The key's narrowing to some tool names; null: all the tenant's tools. */
  allowedTools: readonly string[] | null;
}

export interface AuthDeps {
  config: Config;
  store: TenantStore;
  clock: Clock;
  catalog: ToolCatalog;
  metrics: Metrics;
  log: Logger;
  /**
   * Lists attached remote servers' tools (cached per tenant and server for their own TTL); loaded
   * when a tenant first has a remote server.
   */
  remote?: () => Promise<RemoteTools>;
}

/**
 * Key guessing is throttled per client address and per key id, counting only failures (unknown or
 * damaged keys) and checked only on a cache miss: a key already known is served whatever its
 * neighbours do, and a refused guess costs no lookup. The counts are per isolate.
 */
export class Authenticator {
  readonly #cache: TtlCache<Caller>;
  readonly #byAddress: FailureBudget;
  readonly #byKeyId: FailureBudget;

  constructor(private readonly deps: AuthDeps) {
    const { config, clock } = deps;
    this.#cache = new TtlCache<Caller>({
      ttlMs: config.tenantCacheTtlMs,
      negativeTtlMs: config.negativeCacheTtlMs,
      maxEntries: config.tenantCacheMax,
      maxNegativeEntries: config.negativeCacheMax,
      staleMs: config.staleKeyMs,
      outageRetryMs: config.retryAfterSeconds * 1000,
      isOutage: (err) => err instanceof StoreUnavailableError,
      clock,
    });
    const budget = (limit: number) =>
      new FailureBudget({
        limit,
        windowMs: config.keyFailureWindowMs,
        maxTracked: config.negativeCacheMax,
        clock,
      });
    this.#byAddress = budget(config.keyFailuresPerAddress);
    this.#byKeyId = budget(config.keyFailuresPerKeyId);
  }

  get cachedKeys(): number {
    return this.#cache.size;
  }

  /**
   * `seen.keyCache` says whether this request found the key cached or looked it up. A cached key
   * is answered synchronously (no promise, no await): this is every warm request's path.
   * `authorization`: the header, when the caller already read it.
   */
  authenticate(
    request: Request,
    seen?: { keyCache?: "hit" | "miss" },
    authorization: string | null = request.headers.get("authorization"),
  ): Caller | Promise<Caller> {
    const text = readKeyText(request, authorization);
    // Cached by the key itself (isolate memory only; the database keeps hashes): a hit costs
    // one Map lookup, no parsing, no hashing. Only well-formed keys are ever cached.
    const caller = this.#cache.peek(text);
    if (!caller) return this.#lookUp(request, text, seen);
    if (seen) seen.keyCache = "hit";
    this.deps.metrics.keyCacheHits++;
    return this.#admit(caller);
  }

  /** A key this isolate holds no fresh answer for: its shape, the budgets, then the store. */
  async #lookUp(
    request: Request,
    text: string,
    seen: { keyCache?: "hit" | "miss" } | undefined,
  ): Promise<Caller> {
    const { metrics, config } = this.deps;
    if (seen) seen.keyCache = "miss";
    const key = parseKeyText(text);
    const address = clientAddress(request, config.clientAddressHeader);
    this.#checkBudgets(address, key.keyId);
    let caller: Caller | null;
    try {
      caller = await this.#cache.get(key.key, () => this.#load(key), {
        onStale: () => metrics.staleKeysServed++,
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === "INVALID_API_KEY") {
        this.#failed(address, key.keyId);
      }
      if (!(err instanceof StoreUnavailableError)) throw err;
      throw new ApiError(
        "STORE_UNAVAILABLE",
        "The server can't check API keys right now. Retry shortly.",
        { "retry-after": String(config.retryAfterSeconds) },
      );
    }
    if (!caller) {
      this.#failed(address, key.keyId);
      throw new ApiError(
        "INVALID_API_KEY",
        "The API key is not recognised. Check that it was copied whole, or ask an admin for a new one.",
      );
    }
    return await this.#admit(caller);
  }

  /** What a known key may still be refused for, checked on every request; remote tools added. */
  #admit(caller: Caller): Caller | Promise<Caller> {
    const now = this.deps.clock.now();
    if (caller.revokedAt !== null && caller.revokedAt <= now) {
      throw new ApiError(
        "KEY_REVOKED",
        `The API key ${caller.keyPrefix}… has been revoked. Ask an admin for a new one.`,
      );
    }
    if (caller.expiresAt !== null && caller.expiresAt <= now) {
      throw new ApiError(
        "KEY_EXPIRED",
        `The API key ${caller.keyPrefix}… expired on ${
          new Date(caller.expiresAt).toISOString()
        }. ` +
          "Ask an admin for a new one.",
      );
    }
    if (caller.tenantStatus !== "active") {
      throw new ApiError(
        "TENANT_DISABLED",
        `The tenant "${caller.tenant.slug}" is ${caller.tenantStatus}. Contact its admin.`,
      );
    }
    const { remote } = this.deps;
    if (remote && caller.remoteServers.length > 0) return this.#withRemoteTools(caller, remote);
    return caller;
  }

  async #withRemoteTools(caller: Caller, remote: () => Promise<RemoteTools>): Promise<Caller> {
    const toolSet = await (await remote()).extend(
      caller.tenant,
      caller.remoteServers,
      caller.toolSet,
      caller.allowedTools,
    );
    return { ...caller, toolSet };
  }

  #checkBudgets(address: string | null, keyId: string): void {
    const waitMs = Math.max(
      address === null ? 0 : this.#byAddress.blockedForMs(address),
      this.#byKeyId.blockedForMs(keyId),
    );
    if (waitMs === 0) return;
    this.deps.metrics.keyGuessesThrottled++;
    const seconds = Math.ceil(waitMs / 1000);
    throw new ApiError(
      "TOO_MANY_FAILED_KEYS",
      `Too many unknown or damaged API keys were sent from here (or for the key mcpk_${keyId}). ` +
        `Wait ${seconds} s, then retry with a valid key.`,
      { "retry-after": String(seconds) },
    );
  }

  #failed(address: string | null, keyId: string): void {
    if (address !== null) this.#byAddress.fail(address);
    this.#byKeyId.fail(keyId);
  }

  async #load(key: ParsedKey): Promise<Caller | null> {
    const { store, metrics, log } = this.deps;
    // Only on a cache miss: a cached key is one whose checksum already matched.
    if (!(await checksumMatches(key.key))) {
      metrics.keysRefusedUnchecked++;
      throw new ApiError(
        "INVALID_API_KEY",
        `The API key ${key.displayPrefix}… is damaged (its checksum does not match): ` +
          "it was probably mistyped or cut short. Copy it again, whole.",
      );
    }
    const keyHash = await sha256Hex(key.key);
    metrics.storeLookups++;
    let record: KeyRecord | null;
    try {
      record = await store.resolveKey(keyHash);
    } catch (err) {
      metrics.storeErrors++;
      // Unreachable: the caller hears "retry". Anything else is a bug the app reports with a reference.
      if (err instanceof StoreUnavailableError) log.error("store_unavailable", { error: err });
      throw err;
    }
    // The hash decides; the key id must agree, or the row is not this key's.
    if (record && record.keyId !== key.keyId) return null;
    return record && this.#toCaller(record);
  }

  async #toCaller(record: KeyRecord): Promise<Caller> {
    const { tenant } = record;
    await this.deps.catalog.load(tenant.tools);
    // Tools left out are logged once per server build (mcp/mcp_lite_server.ts), not per key.
    const { toolSet } = this.deps.catalog.toolSet(tenant.tools, { only: record.allowedTools });
    return {
      label: record.keyPrefix,
      keyId: record.keyId,
      keyPrefix: record.keyPrefix,
      expiresAt: record.expiresAt,
      revokedAt: record.revokedAt,
      tenantStatus: tenant.status,
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, config: tenant.config },
      toolSet,
      remoteServers: tenant.remoteServers ?? [],
      allowedTools: record.allowedTools ?? null,
    };
  }
}

/**
 * The client's address as the gateway reports it: the first entry of the configured header
 * (Supabase's gateway sets x-forwarded-for). null when absent: only the key-id budget applies.
 */
function clientAddress(request: Request, header: string): string | null {
  const value = request.headers.get(header);
  const first = value?.split(",")[0].trim();
  return first ? first.slice(0, 100) : null;
}
