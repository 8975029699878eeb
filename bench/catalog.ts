/** The function's catalog plus the bench family: what the measured function serves. */
import { builtinTools } from "../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { ToolCatalog } from "../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { benchTools } from "./tools.ts";

export function benchCatalog(): ToolCatalog {
  return new ToolCatalog([builtinTools, benchTools]);
}
