/** The tenant store: resolves a key hash to the key's state and its tenant, via one RPC. */
import { z } from "zod";
import type { Rpc } from "./rpc.ts";
import { type RemoteServer, resolveRemoteServers } from "./remote_servers.ts";

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
}

export interface TenantStore {
  /**
   * null when no key has this hash; throws StoreUnavailableError when the store can't answer,
   * anything else when it answers wrongly (a bug: schema drift, a broken function).
   */
  resolveKey(keyHash: string): Promise<KeyRecord | null>;
}

const timestamp = z.string().nullable().transform((s, ctx) => {
  if (s === null) return null;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: `bad timestamp ${s}` });
    return z.NEVER;
  }
  return ms;
});

/** A tenant with its tools' catalog rows, as resolve_api_key and resolve_member return it. */
export const TenantSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.string(),
  config: z.record(z.string(), z.unknown()),
  tools: z.array(z.object({
    name: z.string(),
    family: z.string(),
    version: z.number().int(),
    description: z.string(),
    definition: z.unknown(),
  })),
}).transform((tenant): TenantRecord => ({
  id: tenant.id,
  slug: tenant.slug,
  name: tenant.name,
  status: tenant.status,
  config: tenant.config,
  tools: tenant.tools.map((row) => ({ ...row, definition: row.definition ?? null })),
}));

const KeyRecordSchema = z.object({
  key_id: z.string(),
  key_prefix: z.string(),
  expires_at: timestamp,
  revoked_at: timestamp,
  allowed_tools: z.array(z.string()).nullable().optional(),
  tenant: TenantSchema,
});

function parseKeyRecord(data: unknown): KeyRecord {
  const parsed = KeyRecordSchema.safeParse(data);
  if (!parsed.success) {
    throw new Error(`resolve_api_key returned an unexpected shape: ${parsed.error}`);
  }
  const { key_id, key_prefix, expires_at, revoked_at, allowed_tools, tenant } = parsed.data;
  return {
    keyId: key_id,
    keyPrefix: key_prefix,
    allowedTools: allowed_tools ?? null,
    expiresAt: expires_at,
    revokedAt: revoked_at,
    tenant,
  };
}

/**
 * The store on Supabase: `resolve_api_key` by key hash, and the tenant's remote servers by the
 * same hash, asked at the same time so a key lookup costs one round trip.
 */
export function supabaseTenantStore(rpc: Rpc): TenantStore {
  return {
    async resolveKey(keyHash) {
      const [data, remoteServers] = await Promise.all([
        rpc.call("resolve_api_key", { p_key_hash: keyHash }),
        resolveRemoteServers(rpc, keyHash),
      ]);
      if (data === null) return null;
      const record = parseKeyRecord(data);
      record.tenant.remoteServers = remoteServers;
      return record;
    },
  };
}
