/**
 * What an HTTP tool is, as stored in `tool_catalog.definition`: the request to make (method,
 * path template, which arguments go to the query, the JSON body or headers), the arguments'
 * JSON Schema, and how the answer becomes the tool result.
 *
 * HttpDefinitionSchema is the one source of the definition's shape: `deno task generate` turns it
 * (with the name patterns and reserved headers below) into the SQL the database checks each
 * definition with on save. The rules relating one field to another (parseHttpDefinition) are
 * written twice, here and in private.http_tool_definition_problems; a test runs both on the same
 * cases.
 */
import * as z from "zod";
import { compileInputSchema, inputSchemaProblems } from "./input_schema.ts";

export const ARGUMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
export const SECRET_NAME = /^[a-z][a-z0-9_]{0,62}$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Headers a tool's arguments may never set: the transport's and the tenant's credentials'. */
export const RESERVED_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "expect",
]);

export const MAX_CHARS_DEFAULT = 20_000;

const argumentName = z.string().regex(
  ARGUMENT_NAME,
  "must be an argument name (letters, digits, _)",
).describe("an argument name: letters, digits and _");

export const HttpDefinitionSchema = z.strictObject({
  // HEAD answers carry no body: the tool result is the status and the headers (response.ts).
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
  path: z.string().max(2000).regex(
    /^\/[^?#\s]*$/,
    "must start with / and hold no query, fragment or spaces (e.g. /orders/{order_id})",
  ).describe("starts with / and holds no query, fragment or spaces, e.g. /orders/{order_id}"),
  title: z.string().min(1).max(200).optional(),
  input_schema: z.looseObject({ type: z.literal("object") }).describe(
    'a JSON Schema object with "type": "object"',
  ),
  query: z.array(argumentName).default([]),
  body: z.array(argumentName).default([]),
  headers: z.record(
    z.string().regex(HEADER_NAME, "must be a header name").describe("a header name"),
    argumentName,
  ).default({}),
  response: z.strictObject({
    type: z.enum(["auto", "json", "text"]).default("auto"),
    max_chars: z.int().min(100).max(1_000_000).default(MAX_CHARS_DEFAULT),
  }).default({ type: "auto", max_chars: MAX_CHARS_DEFAULT }),
  annotations: z.strictObject({
    readOnlyHint: z.boolean().optional(),
    destructiveHint: z.boolean().optional(),
    idempotentHint: z.boolean().optional(),
    openWorldHint: z.boolean().optional(),
  }).optional(),
  timeout_ms: z.int().min(100).max(120_000).optional(),
});

export type HttpDefinition = z.output<typeof HttpDefinitionSchema>;

/** Names of the `{placeholders}` in a path template, in order. */
export function pathPlaceholders(path: string): string[] {
  return [...path.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

export class DefinitionError extends Error {
  constructor(readonly toolName: string, readonly problems: string[]) {
    super(`HTTP tool "${toolName}" has an invalid definition: ${problems.join("; ")}`);
    this.name = "DefinitionError";
  }
}

export interface ParsedDefinition {
  definition: HttpDefinition;
  /** Validates and types the arguments; built from `input_schema`. */
  input: z.ZodType;
}

/** Parses and cross-checks a stored definition; throws DefinitionError listing every problem. */
export function parseHttpDefinition(toolName: string, raw: unknown): ParsedDefinition {
  const parsed = HttpDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DefinitionError(
      toolName,
      parsed.error.issues.map((i) =>
        `${i.path.length ? i.path.join(".") : "definition"}: ${i.message}`
      ),
    );
  }
  const definition = parsed.data;
  const problems: string[] = [];
  const schema = definition.input_schema as {
    properties?: Record<string, { type?: unknown }>;
    required?: unknown;
  };
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];

  const places = new Map<string, string>();
  const use = (name: string, where: string) => {
    const earlier = places.get(name);
    if (earlier) problems.push(`argument "${name}" is used twice (${earlier} and ${where})`);
    else places.set(name, where);
    if (!(name in properties)) {
      problems.push(`argument "${name}" (${where}) is not in input_schema.properties`);
    }
  };
  if (/[{}]/.test(definition.path.replace(PLACEHOLDER, ""))) {
    problems.push("path has an unbalanced { or }");
  }
  for (const name of pathPlaceholders(definition.path)) {
    if (!ARGUMENT_NAME.test(name)) {
      problems.push(`path placeholder {${name}} is not an argument name`);
      continue;
    }
    use(name, "path");
    if (!required.includes(name)) {
      problems.push(`path argument "${name}" must be listed in input_schema.required`);
    }
    const type = properties[name]?.type;
    if (type !== undefined && !["string", "integer", "number"].includes(String(type))) {
      problems.push(`path argument "${name}" must be a string, integer or number`);
    }
  }
  for (const name of definition.query) use(name, "query");
  for (const name of definition.body) use(name, "body");
  for (const [header, name] of Object.entries(definition.headers)) {
    if (RESERVED_HEADERS.has(header.toLowerCase())) {
      problems.push(`header "${header}" can't be set from an argument`);
    }
    use(name, `header ${header}`);
  }
  if (definition.body.length > 0 && (definition.method === "GET" || definition.method === "HEAD")) {
    problems.push(`a ${definition.method} request can't have body arguments; use query instead`);
  }
  for (const name of Object.keys(properties)) {
    if (!places.has(name)) {
      problems.push(
        `argument "${name}" is in input_schema but not sent (path, query, body or headers)`,
      );
    }
  }

  // Keywords and limits first: building a validator from a hostile schema is itself work.
  const schemaProblems = inputSchemaProblems(definition.input_schema);
  problems.push(...schemaProblems);
  let input: z.ZodType | undefined;
  if (schemaProblems.length === 0) {
    try {
      input = compileInputSchema(definition.input_schema);
    } catch (err) {
      problems.push(`input_schema is not a usable JSON Schema: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0 || !input) throw new DefinitionError(toolName, problems);
  return { definition, input };
}

function isObject(value: unknown): value is Record<string, { type?: unknown }> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
