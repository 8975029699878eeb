// OpenAPI schema objects (3.0 and 3.1) → the plain JSON Schema an `http` tool's input_schema
// holds. Keeps the validation keywords agents and the server use, drops documentation-only and
// vendor keywords, turns 3.0's `nullable` and boolean `exclusiveMinimum` into their JSON Schema
// forms, and cuts recursion (a dereferenced document may point back at itself).

/** Keywords kept; anything else (example, xml, discriminator, x-*, $id, …) is dropped. */
const KEPT = new Set([
  "type",
  "title",
  "description",
  "default",
  "enum",
  "const",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "required",
]);
const SUBSCHEMA_LISTS = new Set(["anyOf", "oneOf", "allOf"]);
/** Deeper than this, a schema is left open ({}): the upstream still validates what it gets. */
const MAX_DEPTH = 8;
const MAX_DESCRIPTION = 1000;

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JSON Schema for one OpenAPI schema object; `{}` for anything it can't follow. */
export function toJsonSchema(schema: unknown, options: { dropReadOnly?: boolean } = {}): Json {
  return convert(schema, 0, new Set(), options.dropReadOnly ?? false);
}

function convert(schema: unknown, depth: number, seen: Set<unknown>, dropReadOnly: boolean): Json {
  if (!isObject(schema) || depth > MAX_DEPTH || seen.has(schema) || "$ref" in schema) return {};
  seen.add(schema);
  try {
    const out: Json = {};
    for (const [key, value] of Object.entries(schema)) {
      if (KEPT.has(key)) out[key] = value;
    }
    if (typeof out.description === "string" && out.description.length > MAX_DESCRIPTION) {
      out.description = `${out.description.slice(0, MAX_DESCRIPTION - 1)}…`;
    }
    if (typeof out.pattern === "string" && !validPattern(out.pattern)) delete out.pattern;
    if (!Array.isArray(out.required)) delete out.required;
    // 3.0: boolean exclusive bounds qualify minimum/maximum.
    for (
      const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]]
    ) {
      if (typeof out[flag] === "boolean") {
        if (out[flag] && typeof out[bound] === "number") {
          out[flag] = out[bound];
          delete out[bound];
        } else delete out[flag];
      }
    }
    // 3.0: nullable: true → the type also admits null.
    if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
    if (isObject(schema.properties)) {
      const properties: Json = {};
      for (const [name, sub] of Object.entries(schema.properties)) {
        if (dropReadOnly && isObject(sub) && sub.readOnly === true) continue;
        properties[name] = convert(sub, depth + 1, seen, dropReadOnly);
      }
      out.properties = properties;
      if (Array.isArray(out.required)) {
        out.required = out.required.filter((name) =>
          typeof name === "string" && name in properties
        );
      }
    }
    if (isObject(schema.additionalProperties)) {
      out.additionalProperties = convert(
        schema.additionalProperties,
        depth + 1,
        seen,
        dropReadOnly,
      );
    } else if (typeof schema.additionalProperties === "boolean") {
      out.additionalProperties = schema.additionalProperties;
    }
    if (isObject(schema.items)) out.items = convert(schema.items, depth + 1, seen, dropReadOnly);
    for (const key of SUBSCHEMA_LISTS) {
      const list = schema[key];
      if (Array.isArray(list) && list.length > 0) {
        out[key] = list.map((sub) => convert(sub, depth + 1, seen, dropReadOnly));
      }
    }
    if (Array.isArray(out.type) && out.type.length === 0) delete out.type;
    return out;
  } finally {
    seen.delete(schema);
  }
}

function validPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
}

/**
 * An object schema's properties and required names, with `allOf` members merged (how OpenAPI
 * documents compose bodies); null when the schema is not one object (an array, a union, …).
 */
export function objectShape(
  schema: Json,
): { properties: Record<string, Json>; required: string[] } | null {
  if (schema.anyOf || schema.oneOf) return null;
  const parts = [schema, ...(Array.isArray(schema.allOf) ? schema.allOf as Json[] : [])];
  const properties: Record<string, Json> = {};
  const required = new Set<string>();
  for (const part of parts) {
    if (part !== schema && (part.anyOf || part.oneOf || part.allOf)) return null;
    if (part.type !== undefined && !isObjectType(part.type)) return null;
    if (isObject(part.properties)) Object.assign(properties, part.properties);
    if (Array.isArray(part.required)) part.required.forEach((name) => required.add(String(name)));
  }
  if (!isObjectType(schema.type) && Object.keys(properties).length === 0) return null;
  return { properties, required: [...required].filter((name) => name in properties) };
}

/** "object", or ["object", "null"] (a nullable object: an absent body is fine). */
function isObjectType(type: unknown): boolean {
  return type === "object" ||
    (Array.isArray(type) && type.includes("object") &&
      type.every((t) => t === "object" || t === "null"));
}
