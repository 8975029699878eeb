/** The function's catalog plus the bench family: what the measured function serves. */
import {
  type CatalogRow,
  ToolCatalog,
} from "../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { ALL_FAMILIES as FAMILIES } from "../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { benchTools } from "./tools.ts";

export function benchCatalog(): ToolCatalog {
  return new ToolCatalog([...FAMILIES, benchTools]);
}

/** The catalog rows resolve_api_key returns for a tenant with every bench tool enabled. */
export function benchRows(): CatalogRow[] {
  return benchTools.map((t) => ({
    name: t.name,
    family: t.family,
    version: 1,
    description: t.description,
    definition: null,
  }));
}
