/**
 * Turns the catalog rows of a tenant's enabled tools into the tool set it is served. The database
 * catalog says which tools exist, their description and version; a family module says how each
 * one runs: either a fixed list of tools defined in code, or a builder for data-defined tools.
 */
import type { CatalogRow } from "../data/tenant_store.ts";
import type { DataFamily, LazyFamily, ToolDefinition, ToolFamily } from "./contract.ts";
import { listedTool, type ToolListing } from "./listing.ts";

export type { CatalogRow };

/** The tools a tenant actually gets, and the key under which their server is cached. */
export interface ToolSet {
  /** Sorted, deduplicated tool names. */
  names: readonly string[];
  /** `name@version` pairs: a changed definition means a different server. */
  fingerprint: string;
  /** The definitions served, in `names` order. */
  tools: readonly ToolDefinition[];
  /** Enabled tools this deployment can't serve, and why: not listed; calling one says why. */
  leftOut: readonly LeftOutTool[];
}

export interface LeftOutTool {
  name: string;
  reason: string;
}

/**
 * What a caller may use of its tenant's tools: a key narrowed to some of them, a role limited to
 * the read-only ones. The same effective set is listed and callable, and it is what the server
 * cache keys on, so callers with equal effective sets still share one server.
 */
export interface Narrowing {
  /** Only these names (null or absent: no narrowing by name). */
  only?: readonly string[] | null;
  /** Only tools annotated `readOnlyHint: true`. */
  readOnly?: boolean;
}

/** Built definitions are reused until a version changes; an isolate sees few distinct versions. */
const MEMO_LIMIT = 10_000;

export class ToolCatalog {
  readonly #code = new Map<string, ToolDefinition>();
  readonly #data = new Map<string, DataFamily>();
  readonly #built = new Map<string, ToolDefinition | Error>();

  /** Families not imported yet, by name; a load in progress is shared. */
  readonly #lazy = new Map<string, LazyFamily>();
  readonly #loading = new Map<string, Promise<void>>();
  /** Code families listed from their generated listings: how to read them, and once read. */
  readonly #listings = new Map<string, () => Promise<Readonly<Record<string, ToolListing>>>>();
  readonly #listed = new Map<string, Readonly<Record<string, ToolListing>>>();
  readonly #listing = new Map<string, Promise<void>>();

  constructor(families: readonly (ToolFamily | LazyFamily)[]) {
    for (const family of families) {
      if ("load" in family) {
        if (this.#lazy.has(family.family)) {
          throw new Error(`Family "${family.family}" is defined twice`);
        }
        this.#lazy.set(family.family, family);
        if (family.listed) this.#listings.set(family.family, family.listed);
        continue;
      }
      this.#add(family);
    }
  }

  /**
   * Imports what `toolSet(rows)` needs to serve these rows: the families they belong to, or for a
   * family listed from its generated listings, those listings alone (its module is imported by a
   * tool's first call).
   */
  async load(rows: readonly CatalogRow[]): Promise<void> {
    const wanted = new Set<string>();
    for (const row of rows) {
      if (
        this.#listings.has(row.family) ? !this.#listed.has(row.family) : this.#lazy.has(row.family)
      ) {
        wanted.add(row.family);
      }
    }
    await Promise.all(
      [...wanted].map((name) =>
        this.#listings.has(name) ? this.#loadListings(name) : this.#loadFamily(name)
      ),
    );
  }

  #loadListings(name: string): Promise<void> {
    let loading = this.#listing.get(name);
    if (!loading) {
      loading = this.#listings.get(name)!().then((listed) => void this.#listed.set(name, listed));
      // A failed read is tried again by the next request rather than remembered.
      loading.catch(() => this.#listing.delete(name));
      this.#listing.set(name, loading);
    }
    return loading;
  }

  #loadFamily(name: string): Promise<void> {
    let loading = this.#loading.get(name);
    if (!loading) {
      loading = this.#lazy.get(name)!.load().then((family) => {
        if (this.#lazy.delete(name)) this.#add(family);
      });
      // A failed import is tried again by the next request rather than remembered.
      loading.catch(() => this.#loading.delete(name));
      this.#loading.set(name, loading);
    }
    return loading;
  }

  #add(family: ToolFamily): void {
    if ("build" in family) {
      if (this.#data.has(family.family)) {
        throw new Error(`Family "${family.family}" is defined twice`);
      }
      this.#data.set(family.family, family);
      return;
    }
    for (const tool of family) {
      if (this.#code.has(tool.name)) throw new Error(`Tool "${tool.name}" is defined twice`);
      this.#code.set(tool.name, tool);
    }
  }

  /** Tools defined in code, of the families loaded so far. */
  codeTools(): ToolDefinition[] {
    return [...this.#code.values()];
  }

  /**
   * Deny by default: a row this deployment can't serve (its code is missing, or its definition is
   * unusable) is left out and reported, rather than failing the tenant's other tools.
   */
  toolSet(
    rows: readonly CatalogRow[],
    narrowing: Narrowing = {},
  ): { toolSet: ToolSet; problems: string[] } {
    const only = narrowing.only ? new Set(narrowing.only) : null;
    const byName = new Map<string, CatalogRow>();
    for (const row of rows) if (!only || only.has(row.name)) byName.set(row.name, row);
    const leftOut: LeftOutTool[] = [];
    const tools: ToolDefinition[] = [];
    const keys: string[] = [];
    for (const name of [...byName.keys()].sort()) {
      const row = byName.get(name)!;
      const built = this.#definition(row);
      if (built instanceof Error) {
        leftOut.push({ name, reason: built.message });
        keys.push(`${name}@${row.version}!`);
      } else {
        if (narrowing.readOnly && built.annotations?.readOnlyHint !== true) continue;
        tools.push(built);
        keys.push(`${name}@${row.version}`);
      }
    }
    return {
      toolSet: {
        names: tools.map((tool) => tool.name),
        fingerprint: keys.join(","),
        tools,
        leftOut,
      },
      problems: leftOut.map(({ name, reason }) => `${name}: ${reason}`),
    };
  }

  /** The code definition of a listed tool, its family imported first if need be. */
  async #implementation(family: string, name: string): Promise<ToolDefinition> {
    if (this.#lazy.has(family)) await this.#loadFamily(family);
    const code = this.#code.get(name);
    if (!code || code.family !== family) {
      throw new Error(`The ${family} family lists "${name}" but does not define it`);
    }
    return code;
  }

  /** The tool, or why it can't be served; both remembered until the row's version changes. */
  #definition(row: CatalogRow): ToolDefinition | Error {
    const key = `${row.family}/${row.name}@${row.version}`;
    const cached = this.#built.get(key);
    if (cached) return cached;
    let tool: ToolDefinition | Error;
    const code = this.#code.get(row.name);
    const data = this.#data.get(row.family);
    const listed = this.#listed.get(row.family);
    try {
      if (this.#listings.has(row.family) && !listed) {
        // Its listings are not read yet (load() does that): nothing to remember.
        return new Error(`the ${row.family} family is not loaded`);
      } else if (listed) {
        // Listed whether or not its family is imported yet, so the listing never depends on it.
        const listing = Object.hasOwn(listed, row.name) ? listed[row.name] : undefined;
        tool = listing
          ? listedTool(row, listing, () => this.#implementation(row.family, row.name))
          : new Error(`no ${row.family} tool of this name in this deployment`);
      } else if (code && code.family === row.family) {
        // The catalog's description is what agents see, so admins can reword it without a deploy.
        tool = { ...code, description: row.description };
      } else if (data) {
        tool = { ...data.build(row), name: row.name, family: row.family };
      } else if (this.#lazy.has(row.family)) {
        // Its family is not imported yet (load() does that): nothing to remember.
        return new Error(`the ${row.family} family is not loaded`);
      } else {
        tool = new Error(`no ${row.family} tool of this name in this deployment`);
      }
    } catch (err) {
      tool = err instanceof Error ? err : new Error(String(err));
    }
    if (this.#built.size >= MEMO_LIMIT) this.#built.clear();
    this.#built.set(key, tool);
    return tool;
  }
}
