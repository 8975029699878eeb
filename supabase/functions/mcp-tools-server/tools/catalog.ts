/**
 * Every tool the server knows, by name. A tool family is one module exporting its definitions;
 * adding a family means adding it to FAMILIES.
 */
import { builtinTools } from "./builtin.ts";
import { crmTools } from "./crm.ts";
import type { ToolDefinition } from "./types.ts";

const FAMILIES: ToolDefinition[][] = [builtinTools, crmTools];

/** The tools a tenant actually gets, and the key under which their server is cached. */
export interface ToolSet {
  /** Sorted, deduplicated, known tool names. */
  names: readonly string[];
  fingerprint: string;
}

export class ToolCatalog {
  readonly #tools = new Map<string, ToolDefinition>();

  constructor(families: ToolDefinition[][] = FAMILIES) {
    for (const tool of families.flat()) {
      if (this.#tools.has(tool.name)) throw new Error(`Tool "${tool.name}" is defined twice`);
      this.#tools.set(tool.name, tool);
    }
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  /**
   * Deny by default: only names both enabled and known. Unknown names are dropped (reported by
   * the caller) rather than failing the tenant's other tools.
   */
  toolSet(enabled: readonly string[]): { toolSet: ToolSet; unknown: string[] } {
    const names = [...new Set(enabled)].sort();
    const known = names.filter((name) => this.#tools.has(name));
    const unknown = names.filter((name) => !this.#tools.has(name));
    return { toolSet: { names: known, fingerprint: known.join(",") }, unknown };
  }
}
