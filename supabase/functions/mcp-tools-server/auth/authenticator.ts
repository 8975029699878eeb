/**
 * Who is calling: API key → (cached) key record → a Caller, or an ApiError saying why not.
 * The cache holds the derived Caller under the key itself, so a warm request costs one Map
 * lookup; the key is hashed (and its checksum checked) only when it is looked up in the store,
 * which holds nothing but hashes.
 */
import { checksumMatches, sha256Hex } from "./api_key.ts";
import type { Clock } from "../lib/clock.ts";
import type { Config } from "../config.ts";
import { parseKeyText, readKeyText } from "./credentials.ts";
import { ApiError } from "../lib/api_error.ts";
import { TtlCache } from "../lib/ttl_cache.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ToolCatalog, ToolSet } from "../tools/catalog.ts";
import type { TenantContext } from "../tools/contract.ts";
import { type KeyRecord, StoreUnavailableError, type TenantStore } from "../data/tenant_store.ts";

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
}

export interface AuthDeps {
  config: Config;
  store: TenantStore;
  clock: Clock;
  catalog: ToolCatalog;
  metrics: Metrics;
  log: Logger;
}

export class Authenticator {
  readonly #cache: TtlCache<Caller>;

  constructor(private readonly deps: AuthDeps) {
    this.#cache = new TtlCache<Caller>({
      ttlMs: deps.config.tenantCacheTtlMs,
      negativeTtlMs: deps.config.negativeCacheTtlMs,
      maxEntries: deps.config.tenantCacheMax,
      clock: deps.clock,
    });
  }

  get cachedKeys(): number {
    return this.#cache.size;
  }

  async authenticate(request: Request): Promise<Caller> {
    const { clock, metrics } = this.deps;
    const key = readKeyText(request);
    let caller: Caller | null;
    try {
      caller = await this.#cache.get(
        key,
        () => this.#load(key),
        () => metrics.keyCacheHits++,
      );
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      throw new ApiError(
        "STORE_UNAVAILABLE",
        "The server can't check API keys right now. Retry shortly.",
        { "retry-after": String(this.deps.config.retryAfterSeconds) },
      );
    }
    if (!caller) {
      throw new ApiError(
        "INVALID_API_KEY",
        "The API key is not recognised. Check that it was copied whole, or ask an admin for a new one.",
      );
    }
    const now = clock.now();
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
    return caller;
  }

  async #load(text: string): Promise<Caller | null> {
    const { store, metrics, log } = this.deps;
    // A miss: only now is the key's format checked (a malformed key is never cached).
    const key = parseKeyText(text);
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
    const { toolSet, problems } = this.deps.catalog.toolSet(tenant.tools);
    if (problems.length > 0) {
      this.deps.log.error("tools_left_out", { tenant: tenant.slug, problems });
    }
    return {
      label: record.keyPrefix,
      keyId: record.keyId,
      keyPrefix: record.keyPrefix,
      expiresAt: record.expiresAt,
      revokedAt: record.revokedAt,
      tenantStatus: tenant.status,
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, config: tenant.config },
      toolSet,
    };
  }
}
