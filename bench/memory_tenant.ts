/**
 * The tenant the in-process benches resolve from memory: the builtin tools, one key. Warm caches
 * answer this way too, so no database is needed to measure the request path itself.
 */
import type { KeyRecord } from "../supabase/functions/mcp-tools-server/data/tenant_store.ts";

/** Catalog rows of the builtin tools, as resolve_api_key returns them. */
export const BUILTIN_ROWS = ["echo", "tenant_info"].map((name) => ({
  name,
  family: "builtin",
  version: 1,
  description: `${name} tool`,
  definition: null,
}));

export const BENCH_TENANT = {
  id: "00000000-0000-4000-8000-000000000001",
  slug: "bench",
  name: "Bench",
  status: "active",
  config: {},
  tools: BUILTIN_ROWS,
};

/** The key record of the bench tenant's one key (id a1b2c3d4e5f6). */
export const BENCH_KEY_RECORD: KeyRecord = {
  keyId: "a1b2c3d4e5f6",
  keyPrefix: "mcpk_a1b2c3",
  allowedTools: null,
  expiresAt: null,
  revokedAt: null,
  tenant: BENCH_TENANT,
};
