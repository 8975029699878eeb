/**
 * A code-defined tool as tools/list shows it, apart from its name and description (the catalog
 * row's): title, annotations, JSON Schemas, required client capabilities. `deno task generate`
 * writes every code family's listings to tools/listings/<family>.json, so a worker lists those
 * tools without importing zod or the family's module; the family is imported on the tool's
 * first call. tests/unit/generated_sql_test.ts fails when a file is stale, and
 * tests/unit/listings_test.ts when a listed tool is not served exactly as its definition would be.
 */
import type { z } from "zod";
import type { ToolDefinition, ToolListing } from "./contract.ts";

export type { ToolListing };

/** JSON Schemas are computed once per schema object, not once per server built. */
const jsonSchemas = new WeakMap<z.ZodType, Map<string, Record<string, unknown>>>();

/**
 * A zod schema's JSON Schema, through the schema's own method (no import of zod here: a schema
 * exists only where its family already imported zod).
 */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  let byIo = jsonSchemas.get(schema);
  if (!byIo) jsonSchemas.set(schema, byIo = new Map());
  let json = byIo.get(io);
  // Spread: zod ≥ 4.2 tags its output as a Standard Schema, which would make mcp-lite validate.
  if (!json) byIo.set(io, json = { ...schema.toJSONSchema({ io }) });
  return json;
}

/** What a definition lists: precomputed schemas where it has them, else from its zod schemas. */
export function toolListing(tool: ToolDefinition): ToolListing {
  const outputSchema = tool.outputJsonSchema ??
    (tool.output ? jsonSchemaOf(tool.output, "output") : undefined);
  return {
    ...(tool.title ? { title: tool.title } : {}),
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
    inputSchema: tool.inputJsonSchema ?? jsonSchemaOf(tool.input, "input"),
    ...(outputSchema ? { outputSchema } : {}),
    ...(tool.requiredClientCapabilities
      ? { requiredClientCapabilities: tool.requiredClientCapabilities }
      : {}),
  };
}

/** The listings of every code family (arrays of definitions), by family, then by tool name. */
export function familyListings(
  families: readonly { family: string; tools: readonly ToolDefinition[] }[],
): Record<string, Record<string, ToolListing>> {
  const out: Record<string, Record<string, ToolListing>> = {};
  for (const { family, tools } of [...families].sort((a, b) => a.family < b.family ? -1 : 1)) {
    const byName: Record<string, ToolListing> = {};
    for (const tool of [...tools].sort((a, b) => a.name < b.name ? -1 : 1)) {
      byName[tool.name] = toolListing(tool);
    }
    out[family] = byName;
  }
  return out;
}

/**
 * A tool served from its listing: `implementation` imports its family on the first call, and
 * `input`/`run` are those of the definition it returns (these stand-ins are never run).
 */
export function listedTool(
  row: { name: string; family: string; description: string },
  listing: ToolListing,
  implementation: () => Promise<ToolDefinition>,
): ToolDefinition {
  return {
    name: row.name,
    family: row.family,
    title: listing.title,
    description: row.description,
    annotations: listing.annotations,
    inputJsonSchema: listing.inputSchema,
    outputJsonSchema: listing.outputSchema,
    requiredClientCapabilities: listing.requiredClientCapabilities,
    ...neverRun(`"${row.name}" runs through its implementation`),
    implementation,
  };
}

/** `input` and `run` of a definition that stands in for another and is never run itself. */
export function neverRun(why: string): Pick<ToolDefinition, "input" | "run"> {
  const fail = (): never => {
    throw new Error(`A stand-in tool definition was used: ${why}`);
  };
  return { input: { safeParse: fail, parse: fail } as unknown as z.ZodType, run: fail };
}
