/**
 * Tenants' upstream credentials, read only when a tool needs them. The database keeps them
 * encrypted (Supabase Vault, or pgcrypto under TENANT_SECRETS_KEY where Vault is absent) and
 * hands a tenant's named secrets only to the service role. Values are cached briefly per
 * isolate and never logged: errors here name tenants and secret names, never values.
 */
import { z } from "zod";
import type { Clock } from "../lib/clock.ts";
import type { SupabaseAccess } from "../config.ts";
import { KeyCache } from "../lib/ttl_cache.ts";
import { serviceClient } from "./supabase_client.ts";

export interface TenantSecrets {
  /**
   * The tenant's secrets with these names; a name that is not set is absent from the result.
   * Throws SecretsUnavailableError when the store can't answer.
   */
  get(tenantId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

export class SecretsUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SecretsUnavailableError";
  }
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
  const cache = new KeyCache<ReadonlyMap<string, string>>({
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

const SecretsSchema = z.record(z.string(), z.string());

/**
 * The store on Supabase: `resolve_tenant_secrets` over PostgREST with the service key.
 * `localKey` decrypts secrets kept without Vault; Vault-held secrets ignore it.
 */
export function supabaseTenantSecrets(
  access: SupabaseAccess,
  options: { timeoutMs: number; localKey?: string },
): TenantSecrets {
  const client = serviceClient(access, options.timeoutMs);
  return {
    async get(tenantId, names) {
      let result;
      try {
        result = await client.rpc("resolve_tenant_secrets", {
          p_tenant_id: tenantId,
          p_names: [...names],
          p_key: options.localKey ?? null,
        });
      } catch (err) {
        throw new SecretsUnavailableError(`resolve_tenant_secrets failed: ${errorName(err)}`);
      }
      if (result.error) {
        // The database's message names the problem (e.g. a missing key); it never holds values.
        throw new SecretsUnavailableError(
          `resolve_tenant_secrets failed (${result.status}): ${result.error.message}`,
        );
      }
      const parsed = SecretsSchema.safeParse(result.data ?? {});
      if (!parsed.success) {
        throw new SecretsUnavailableError("resolve_tenant_secrets returned an unexpected shape");
      }
      return new Map(Object.entries(parsed.data));
    },
  };
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
}
