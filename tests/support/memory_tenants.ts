/**
 * An in-memory tenant store for unit tests: the same TenantStore interface the function reads
 * through, holding tenants and keys made here, with the catalog rows of the code-defined tools.
 * The database itself is never faked: tests of SQL, PostgREST or supabase-js use the stack.
 */
import { sha256Hex, withChecksum } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import type {
  CatalogRow,
  KeyRecord,
  TenantStore,
} from "../../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import type { ToolFamily } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { ALL_FAMILIES as FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { composedApp, type TestApp } from "./fixtures.ts";
import type { Config } from "../../supabase/functions/mcp-tools-server/config.ts";
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";

let counter = 0;
const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");

export class MemoryTenants implements TenantStore {
  /** How often the app asked (the in-memory twin of the store lookups the database would see). */
  lookups = 0;
  readonly #keys = new Map<string, KeyRecord>();
  readonly #rows = new Map<string, CatalogRow>();

  constructor(families: readonly ToolFamily[] = FAMILIES) {
    for (const family of families) {
      if ("build" in family) continue;
      for (const tool of family) {
        this.#rows.set(tool.name, {
          name: tool.name,
          family: tool.family,
          version: 1,
          description: tool.description,
          definition: null,
        });
      }
    }
  }

  /**
   * Lists a catalog row as if an admin had saved it, without the database's checks on save: how
   * a definition that slipped through anyway reaches the function.
   */
  addRow(row: CatalogRow): void {
    this.#rows.set(row.name, row);
  }

  /** A tenant with these catalog tools enabled, and one key for it. */
  async add(
    tools: string[],
    options: {
      status?: string;
      expiresAt?: number;
      revokedAt?: number;
      /** Narrows the key to these tools. */
      allowedTools?: string[];
    } = {},
  ): Promise<{ id: string; slug: string; key: string }> {
    const slug = `m-${Date.now().toString(36)}-${(counter++).toString(36)}`;
    const id = crypto.randomUUID();
    const keyId = hex(6);
    const key = await withChecksum(`mcpk_${keyId}_${hex(32)}`);
    const rows = [...new Set(tools)].sort().map((name) => {
      const row = this.#rows.get(name);
      if (!row) throw new Error(`no catalog row "${name}" (a code tool, or one added by addRow)`);
      return row;
    });
    this.#keys.set(await sha256Hex(key), {
      keyId,
      keyPrefix: `mcpk_${keyId}`,
      allowedTools: options.allowedTools ?? null,
      expiresAt: options.expiresAt ?? null,
      revokedAt: options.revokedAt ?? null,
      tenant: {
        id,
        slug,
        name: `Tenant ${slug}`,
        status: options.status ?? "active",
        config: {},
        tools: rows,
      },
    });
    return { id, slug, key };
  }

  resolveKey(keyHash: string): Promise<KeyRecord | null> {
    this.lookups++;
    return Promise.resolve(this.#keys.get(keyHash) ?? null);
  }
}

/**
 * The real app composed over an in-memory tenant store. Its database address points where
 * nothing listens: a unit test that reached the database would fail, not pass by accident.
 */
export function unitApp(
  tenants: MemoryTenants,
  options: { config?: Partial<Config>; families?: readonly ToolFamily[]; log?: Logger } = {},
): TestApp {
  return composedApp({
    store: tenants,
    supabase: { url: "http://127.0.0.1:9", key: "unit-tests-reach-no-database" },
    families: options.families,
    config: options.config,
    ...(options.log ? { log: options.log } : {}),
  });
}
