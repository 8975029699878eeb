// `deno task generate`: writes the SQL that the database takes from the function's code, so each
// contract has one author.
//
// - supabase/migrations/*_contracts.sql: the name patterns and reserved headers of the HTTP tools,
//   and the JSON Schema of an HTTP tool definition, generated from the zod HttpDefinitionSchema.
// - supabase/migrations/*_code_tools.sql: the tool_catalog rows of the tools defined in code, with
//   their code description as initial value (`on conflict do nothing`: an admin's later rewording
//   in the dashboard is what agents see, and stays).
//
// `deno task generate --check` writes nothing and fails when a committed file differs from what
// the code produces now (tests/unit/generated_sql_test.ts does the same on every test run).

import { join, relative } from "node:path";
import { z } from "zod";
import {
  ARGUMENT_NAME,
  HEADER_NAME,
  HttpDefinitionSchema,
  RESERVED_HEADERS,
  SECRET_NAME,
} from "../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import {
  BOUND_PAIRS,
  INPUT_SCHEMA_KEYWORDS,
  INPUT_SCHEMA_LIMITS,
  JSON_SCHEMA_TYPES,
  UNSUPPORTED_REGEX,
} from "../supabase/functions/mcp-tools-server/tools/http/input_schema.ts";
import { ALL_FAMILIES as FAMILIES } from "../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { familyListings } from "../supabase/functions/mcp-tools-server/tools/listing.ts";

const ROOT = join(import.meta.dirname!, "..");
const FUNCTION_DIR = "supabase/functions/mcp-tools-server";

export const CONTRACTS_FILE = "supabase/migrations/20261123000100_contracts.sql";
export const CODE_TOOLS_FILE = "supabase/migrations/20261123090000_code_tools.sql";
export const LISTINGS_DIR = `${FUNCTION_DIR}/tools/listings`;

/** Keywords private.json_schema_problems understands or deliberately ignores. */
const VALIDATED = new Set([
  "type",
  "enum",
  "const",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "required",
  "properties",
  "additionalProperties",
  "propertyNames",
  "items",
]);
const IGNORED = new Set(["$schema", "description", "default", "title"]);

function sqlText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function dollarQuoted(text: string, tag = "json"): string {
  while (text.includes(`$${tag}$`)) tag += "_";
  return `$${tag}$${text}$${tag}$`;
}

/** Refuses a generated schema using a keyword the database's validator would silently skip. */
function assertValidatable(schema: unknown, path = "#"): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return;
  for (const [key, value] of Object.entries(schema)) {
    if (IGNORED.has(key)) continue;
    if (!VALIDATED.has(key)) {
      throw new Error(
        `${path}: the JSON Schema keyword "${key}" is not checked by private.json_schema_problems; ` +
          "extend the validator (tool_catalog migration) or keep the zod schema within its subset",
      );
    }
    if (key === "properties") {
      for (const [name, sub] of Object.entries(value as object)) {
        assertValidatable(sub, `${path}/properties/${name}`);
      }
    } else if (["items", "additionalProperties", "propertyNames"].includes(key)) {
      assertValidatable(value, `${path}/${key}`);
    }
  }
}

/** The JSON Schema of what an admin may store (zod's input side: defaults may be left out). */
export function httpDefinitionJsonSchema(): Record<string, unknown> {
  // A copy: zod >= 4.2 marks its result with a hidden `~standard` property.
  const schema = { ...z.toJSONSchema(HttpDefinitionSchema, { io: "input" }) };
  delete schema.$schema;
  assertValidatable(schema);
  return schema;
}

/** Where private.input_schema_problems walks an input_schema by the generated keyword table. */
const INPUT_SCHEMA_WALK_FILE = "supabase/migrations/20261123050000_http_tools.sql";

/**
 * Refuses a keyword kind the database's walk (private.input_schema_problems) has no branch for:
 * the database would refuse every schema using it, while the function accepted them.
 */
export function assertKindsWalked(walkSql: string): void {
  const body = /function private\.input_schema_problems\b[\s\S]*?\nend \$\$;/.exec(walkSql)?.[0];
  if (!body) throw new Error(`${INPUT_SCHEMA_WALK_FILE} has no private.input_schema_problems`);
  const walked = new Set([...body.matchAll(/when '(\w+)' then/g)].map((m) => m[1]));
  const missing = [...new Set(Object.values(INPUT_SCHEMA_KEYWORDS))].filter((k) => !walked.has(k));
  if (missing.length > 0) {
    throw new Error(
      `private.input_schema_problems (${INPUT_SCHEMA_WALK_FILE}) does not check the keyword ` +
        `kind(s) ${missing.join(", ")} of INPUT_SCHEMA_KEYWORDS; extend it first`,
    );
  }
}

function constant(name: string, type: string, value: string, comment: string): string {
  return `create or replace function private.${name}() returns ${type}
language sql immutable parallel safe set search_path = '' as $$ select ${value} $$;
comment on function private.${name}() is ${sqlText(comment)};
`;
}

function header(sources: string[]): string {
  return `-- Generated by deno task generate from ${sources.join(", ")}; do not edit.\n`;
}

export function contractsSql(): string {
  assertKindsWalked(Deno.readTextFileSync(join(ROOT, INPUT_SCHEMA_WALK_FILE)));
  const source = `${FUNCTION_DIR}/tools/http/definition.ts`;
  const inputSource = `${FUNCTION_DIR}/tools/http/input_schema.ts`;
  const json = (value: unknown) => `${dollarQuoted(JSON.stringify(value))}::jsonb`;
  const reserved = [...RESERVED_HEADERS].map(sqlText).join(", ");
  const schema = JSON.stringify(httpDefinitionJsonSchema(), null, 2);
  return `${header([source, inputSource])}
-- Rules of the HTTP tools the database enforces on save, as the function's code states them.

${
    constant(
      "secret_name_pattern",
      "text",
      sqlText(SECRET_NAME.source),
      "Names of tenant secrets (SECRET_NAME in tools/http/definition.ts).",
    )
  }
${
    constant(
      "header_name_pattern",
      "text",
      sqlText(HEADER_NAME.source),
      "HTTP header names (HEADER_NAME in tools/http/definition.ts).",
    )
  }
${
    constant(
      "argument_name_pattern",
      "text",
      sqlText(ARGUMENT_NAME.source),
      "Argument names of HTTP tools (ARGUMENT_NAME in tools/http/definition.ts).",
    )
  }
${
    constant(
      "reserved_headers",
      "text[]",
      `array[${reserved}]`,
      "Headers no HTTP tool argument may set, lowercase (RESERVED_HEADERS in tools/http/definition.ts).",
    )
  }
${
    constant(
      "http_definition_schema",
      "jsonb",
      `${dollarQuoted(schema)}::jsonb`,
      "JSON Schema of tool_catalog.definition for family http (HttpDefinitionSchema in tools/http/definition.ts).",
    )
  }
${
    constant(
      "input_schema_keywords",
      "jsonb",
      json(INPUT_SCHEMA_KEYWORDS),
      "Keywords an HTTP tool's input_schema may use, each with how its value is checked (INPUT_SCHEMA_KEYWORDS in tools/http/input_schema.ts).",
    )
  }
${
    constant(
      "input_schema_limits",
      "jsonb",
      json({ ...INPUT_SCHEMA_LIMITS, types: JSON_SCHEMA_TYPES, bound_pairs: BOUND_PAIRS }),
      "Limits of an HTTP tool's input_schema: nesting, anyOf/oneOf choices, schema count, enum size, pattern length; the JSON Schema types; bounds that must not cross (tools/http/input_schema.ts).",
    )
  }
${
    constant(
      "unsupported_regex_pattern",
      "text",
      sqlText(UNSUPPORTED_REGEX),
      "Regex constructs linear-time matching lacks (back-references, look-around); a pattern using one is refused (UNSUPPORTED_REGEX in tools/http/input_schema.ts).",
    )
  }
grant execute on function
  private.input_schema_keywords(),
  private.input_schema_limits(),
  private.unsupported_regex_pattern(),
  private.secret_name_pattern(),
  private.header_name_pattern(),
  private.argument_name_pattern(),
  private.reserved_headers(),
  private.http_definition_schema()
to service_role;
`;
}

export function codeToolsSql(): string {
  const tools = FAMILIES.filter((family) => Array.isArray(family)).flat();
  const families = [...new Set(tools.map((tool) => tool.family))];
  const rows = tools.map((tool) =>
    `  (${sqlText(tool.name)}, ${sqlText(tool.family)},\n   ${sqlText(tool.description)})`
  );
  return `${header([`${FUNCTION_DIR}/tools/registry.ts`, "the tool modules it lists"])}
-- The catalog rows of the tools defined in code (families ${families.join(", ")}; their
-- tool_families rows come from the migrations of their domains). The code's description is each
-- row's initial value only: an admin may reword it in the dashboard, and that is what agents see.
-- No tenant gets any of these tools unless an admin enables them (the conformance fixtures are for
-- test tenants only).

insert into public.tool_catalog (name, family, description) values
${rows.join(",\n")}
on conflict (name) do nothing;
`;
}

/**
 * Each code family's listings (tools/listing.ts), one file per family under tools/listings/:
 * tools/list serves them without importing zod or the families, and a worker reads only the
 * files of the families its tenants use. JSON has no comments: a file says where it comes from
 * under "//".
 */
export function listingFiles(): Record<string, string> {
  const tools = FAMILIES.filter((family) => Array.isArray(family)).flat();
  const families = [...new Set(tools.map((tool) => tool.family))].map((family) => ({
    family,
    tools: tools.filter((tool) => tool.family === family),
  }));
  const files: Record<string, string> = {};
  for (const [family, listings] of Object.entries(familyListings(families))) {
    const generated = {
      "//": `Generated by deno task generate from the ${family} family ` +
        `(${FUNCTION_DIR}/tools/registry.ts); do not edit.`,
      ...listings,
    };
    files[`${LISTINGS_DIR}/${family}.json`] = JSON.stringify(generated, null, 2) + "\n";
  }
  return files;
}

/** Every generated file, by path relative to the repository root. */
export function generatedFiles(): Record<string, string> {
  return {
    [CONTRACTS_FILE]: contractsSql(),
    [CODE_TOOLS_FILE]: codeToolsSql(),
    ...listingFiles(),
  };
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  let stale = 0;
  for (const [path, content] of Object.entries(generatedFiles())) {
    const full = join(ROOT, path);
    let current: string | undefined;
    try {
      current = await Deno.readTextFile(full);
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) {
      console.error(`${path} is not what deno task generate writes now`);
      stale++;
    } else {
      await Deno.writeTextFile(full, content);
      console.log(`wrote ${relative(ROOT, full)}`);
    }
  }
  return stale === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
