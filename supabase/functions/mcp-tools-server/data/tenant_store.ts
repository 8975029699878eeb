/** The tenant store: resolves a key hash to the key's state and its tenant, via one RPC. */
import type { Rpc } from "./rpc.ts";
import { array, boolean, integer, object, parsed, string, strings, timestamp } from "./shape.ts";
import { type RemoteServer, remoteServers } from "./remote_servers.ts";

export { StoreUnavailableError } from "./rpc.ts";

/** One row of public.tool_catalog, as resolve_api_key returns it. */
export interface CatalogRow {
  name: string;
  family: string;
  version: number;
  description: string;
  definition: unknown;
}

export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  status: string;
  config: Record<string, unknown>;
  /** Catalog rows of the enabled tools this tenant may use, sorted by name. */
  tools: CatalogRow[];
  /** Remote MCP servers the tenant attached (enabled ones); absent: none. */
  remoteServers?: RemoteServer[];
}

export interface KeyRecord {
  keyId: string;
  keyPrefix: string;
  /** The key's narrowing to some of the tenant's tools; null or absent: all of them. */
  allowedTools?: readonly string[] | null;
  /** Epoch ms, or null for never. */
  expiresAt: number | null;
  revokedAt: number | null;
  tenant: TenantRecord;
  /**
   * Whether any limit applies to the key or its tenant; false: the limiter has nothing to lease
   * until the key is read again. Absent (another store): unknown, the limiter asks.
   */
  limited?: boolean;
}

export interface TenantStore {
  /**
   * null when no key has this hash; throws StoreUnavailableError when the store can't answer,
   * anything else when it answers wrongly (a bug: schema drift, a broken function).
   */
  resolveKey(keyHash: string): Promise<KeyRecord | null>;
}

/** A tenant with its tools' catalog rows, as resolve_api_key and resolve_member return it. */
export function tenantRecord(value: unknown, path: string): TenantRecord {
  const tenant = object(value, path);
  return {
    id: string(tenant.id, `${path}.id`),
    slug: string(tenant.slug, `${path}.slug`),
    name: string(tenant.name, `${path}.name`),
    status: string(tenant.status, `${path}.status`),
    config: object(tenant.config, `${path}.config`),
    tools: array(tenant.tools, `${path}.tools`).map((item, i) => {
      const at = `${path}.tools[${i}]`;
      const row = object(item, at);
      return {
        name: string(row.name, `${at}.name`),
        family: string(row.family, `${at}.family`),
        version: integer(row.version, `${at}.version`),
        description: string(row.description, `${at}.description`),
        definition: row.definition ?? null,
      };
    }),
  };
}

export function parseKeyRecord(data: unknown): KeyRecord {
  return parsed("resolve_api_key", () => {
    const row = object(data, "");
    return {
      keyId: string(row.key_id, "key_id"),
      keyPrefix: string(row.key_prefix, "key_prefix"),
      allowedTools: row.allowed_tools == null ? null : strings(row.allowed_tools, "allowed_tools"),
      expiresAt: timestamp(row.expires_at, "expires_at"),
      revokedAt: timestamp(row.revoked_at, "revoked_at"),
      tenant: {
        ...tenantRecord(row.tenant, "tenant"),
        remoteServers: remoteServers(row.remote_servers, "remote_servers"),
      },
      limited: boolean(row.limited, "limited"),
    };
  });
}

/**
 * The store on Supabase: `resolve_api_key` by key hash, one call answering all a first request
 * needs (the key, its tenant and tools, the tenant's remote servers, whether limits apply).
 */
export function supabaseTenantStore(
  rpc: Rpc,
  /** `unlimited`: told of each key found without any limit (the limiter, which then asks nothing). */
  hooks: { unlimited?: (record: KeyRecord) => void } = {},
): TenantStore {
  return {
    async resolveKey(keyHash) {
      const data = await rpc.call("resolve_api_key", { p_key_hash: keyHash });
      if (data === null) return null;
      const record = parseKeyRecord(data);
      if (record.limited === false) hooks.unlimited?.(record);
      return record;
    },
  };
}
