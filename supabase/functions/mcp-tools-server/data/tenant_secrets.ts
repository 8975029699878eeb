/**
 * Tenants' upstream credentials, read only when a tool needs them. The database keeps them
 * encrypted (Supabase Vault, or pgcrypto under TENANT_SECRETS_KEY where Vault is absent) and
 * hands a tenant's named secrets only to the service role. Values are cached briefly per
 * isolate and never logged: errors here name tenants and secret names, never values.
 */
import type { Clock } from "../lib/clock.ts";
import { TtlCache } from "../lib/ttl_cache.ts";
import type { Rpc } from "./rpc.ts";

export interface TenantSecrets {
  /**
   * The tenant's secrets with these names; a name that is not set is absent from the result.
   * Fails as every database call does (see rpc.ts).
   */
  get(tenantId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

export interface SecretCacheOptions {
  ttlMs: number;
  maxEntries: number;
  clock: Clock;
}

/** Caches another TenantSecrets per tenant and name set; failures are not cached. */
export function cachedTenantSecrets(
  inner: TenantSecrets,
  options: SecretCacheOptions,
): TenantSecrets {
  const cache = new TtlCache<ReadonlyMap<string, string>>({
    ttlMs: options.ttlMs,
    negativeTtlMs: 0,
    maxEntries: options.maxEntries,
    clock: options.clock,
  });
  return {
    async get(tenantId, names) {
      const sorted = [...new Set(names)].sort();
      if (sorted.length === 0) return new Map();
      const key = `${tenantId}\n${sorted.join("\n")}`;
      return (await cache.get(key, () => inner.get(tenantId, sorted)))!;
    },
  };
}

/**
 * The store on Supabase: `resolve_tenant_secrets` with the service key. `localKey` decrypts
 * secrets kept without Vault; Vault-held secrets ignore it. The database's messages name problems
 * (e.g. a missing key), never values.
 */
export function supabaseTenantSecrets(rpc: Rpc, options: { localKey?: string }): TenantSecrets {
  return {
    async get(tenantId, names) {
      const data = await rpc.call("resolve_tenant_secrets", {
        p_tenant_id: tenantId,
        p_names: [...names],
        p_key: options.localKey ?? null,
      });
      // Values are never named in an error: only that the answer was not names to strings.
      const secrets = data ?? {};
      if (
        typeof secrets !== "object" || Array.isArray(secrets) ||
        Object.values(secrets).some((value) => typeof value !== "string")
      ) {
        throw new Error("resolve_tenant_secrets returned an unexpected shape");
      }
      return new Map(Object.entries(secrets as Record<string, string>));
    },
  };
}
