/**
 * The JSON Schema subset an HTTP tool's `input_schema` may use, and its limits. The keyword table
 * and the limits are the one source: `deno task generate` writes them into the database, whose
 * private.input_schema_problems walks a schema with the same rules as inputSchemaProblems here (a
 * table of hostile schemas runs through both in tests/integration/contracts_test.ts).
 *
 * Patterns run on RE2JS, a port of RE2: matching is linear in the input, whatever an admin wrote,
 * so no argument can stall the isolate. A pattern RE2 can't compile (back-references, look-around)
 * is refused on save; the database refuses those constructs by name and checks the rest compiles.
 */
import { RE2JS } from "re2js";
import * as z from "zod";

/** How the value of each allowed keyword is checked. Anything not listed is refused. */
export const INPUT_SCHEMA_KEYWORDS = {
  type: "types",
  title: "text",
  description: "text",
  format: "text",
  default: "any",
  const: "any",
  examples: "any",
  enum: "enum",
  minLength: "count",
  maxLength: "count",
  minItems: "count",
  maxItems: "count",
  minimum: "number",
  maximum: "number",
  exclusiveMinimum: "number",
  exclusiveMaximum: "number",
  multipleOf: "positive",
  pattern: "pattern",
  properties: "properties",
  required: "required",
  additionalProperties: "schema_or_boolean",
  items: "schema",
  anyOf: "schemas",
  oneOf: "schemas",
} as const;

export type KeywordKind = (typeof INPUT_SCHEMA_KEYWORDS)[keyof typeof INPUT_SCHEMA_KEYWORDS];

export const JSON_SCHEMA_TYPES = [
  "string",
  "number",
  "integer",
  "boolean",
  "object",
  "array",
  "null",
] as const;

export const INPUT_SCHEMA_LIMITS = {
  /** Nesting of schemas inside `properties`, `items`, `additionalProperties` or a branch. */
  depth: 6,
  /** Branches of one `anyOf` or `oneOf`: each is validated on every call, so they are bounded. */
  branches: 32,
  /** Schemas in all (the top one included). */
  schemas: 500,
  /** Values of one `enum`. */
  enumValues: 200,
  /** Characters of one `pattern`. */
  patternChars: 500,
} as const;

/** Pairs whose lower bound may not exceed the upper one (a schema nothing could satisfy). */
export const BOUND_PAIRS = [
  ["minLength", "maxLength"],
  ["minItems", "maxItems"],
  ["minimum", "maximum"],
] as const;

/**
 * Regex constructs RE2 does not have; the database names them rather than compiling with RE2:
 * back-references (\1, \k<name>) and look-around ((?=, (?!, (?<=, (?<!).
 */
export const UNSUPPORTED_REGEX = String.raw`\\[1-9]|\\k<|\(\?<?[=!]`;

/** Why the pattern can't be used, or null. */
export function patternProblem(pattern: string): string | null {
  if (pattern.length > INPUT_SCHEMA_LIMITS.patternChars) {
    return `is longer than ${INPUT_SCHEMA_LIMITS.patternChars} characters`;
  }
  if (new RegExp(UNSUPPORTED_REGEX).test(pattern)) {
    return "uses a back-reference or look-around, which linear-time matching does not support";
  }
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message})`;
  }
}

/** Every problem of an input_schema, one message each; empty when it is usable. */
export function inputSchemaProblems(schema: unknown): string[] {
  const problems: string[] = [];
  let count = 0;
  const walk = (node: unknown, at: string, depth: number) => {
    if (!isObject(node)) {
      problems.push(`${at} must be a JSON Schema object`);
      return;
    }
    if (++count === INPUT_SCHEMA_LIMITS.schemas + 1) {
      problems.push(`input_schema has more than ${INPUT_SCHEMA_LIMITS.schemas} schemas`);
    }
    if (depth > INPUT_SCHEMA_LIMITS.depth) {
      problems.push(`${at} is nested deeper than ${INPUT_SCHEMA_LIMITS.depth} levels`);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const kind = (INPUT_SCHEMA_KEYWORDS as Record<string, KeywordKind>)[key];
      const where = `${at}.${key}`;
      if (kind === undefined) {
        if (!(depth === 0 && key === "$schema")) {
          problems.push(`${where}: the keyword "${key}" is not supported (use: ${KEYWORD_LIST})`);
        }
        continue;
      }
      const problem = keywordProblem(kind, value);
      if (problem) {
        problems.push(`${where} ${problem}`);
        continue;
      }
      if (kind === "properties") {
        for (const [name, sub] of Object.entries(value as object)) {
          walk(sub, `${where}.${name}`, depth + 1);
        }
      } else if (kind === "schema" || (kind === "schema_or_boolean" && isObject(value))) {
        walk(value, where, depth + 1);
      } else if (kind === "schemas") {
        (value as unknown[]).forEach((branch, i) => walk(branch, `${where}[${i}]`, depth + 1));
      }
    }
    for (const [low, high] of BOUND_PAIRS) {
      if (
        typeof node[low] === "number" && typeof node[high] === "number" && node[low] > node[high]
      ) {
        problems.push(`${at}: ${low} is more than ${high}, so no value can match`);
      }
    }
    if (node.additionalProperties === false && Array.isArray(node.required)) {
      const properties = isObject(node.properties) ? node.properties : {};
      for (const name of node.required) {
        if (typeof name === "string" && !(name in properties)) {
          problems.push(
            `${at}.required names "${name}", which is not in properties while ` +
              "additionalProperties is false, so no value can match",
          );
        }
      }
    }
  };
  walk(schema, "input_schema", 0);
  return problems;
}

const KEYWORD_LIST = Object.keys(INPUT_SCHEMA_KEYWORDS).join(", ");

function keywordProblem(kind: KeywordKind, value: unknown): string | null {
  switch (kind) {
    case "types": {
      const types = Array.isArray(value) ? value : [value];
      if (types.length === 0) return "is an empty list, so no value can match";
      const bad = types.find((t) => !(JSON_SCHEMA_TYPES as readonly unknown[]).includes(t));
      return bad === undefined
        ? null
        : `must be one of ${JSON_SCHEMA_TYPES.join(", ")} (or a list of them), not ${
          JSON.stringify(bad)
        }`;
    }
    case "text":
      return typeof value === "string" ? null : "must be text";
    case "any":
      return null;
    case "enum":
      if (!Array.isArray(value)) return "must be a list of values";
      if (value.length === 0) return "is an empty list, so no value can match";
      return value.length > INPUT_SCHEMA_LIMITS.enumValues
        ? `has more than ${INPUT_SCHEMA_LIMITS.enumValues} values`
        : null;
    case "count":
      return Number.isInteger(value) && (value as number) >= 0
        ? null
        : "must be a whole number, 0 or more";
    case "number":
      return typeof value === "number" ? null : "must be a number";
    case "positive":
      return typeof value === "number" && value > 0 ? null : "must be a number more than 0";
    case "pattern": {
      if (typeof value !== "string") return "must be text (a regular expression)";
      const problem = patternProblem(value);
      return problem;
    }
    case "properties":
      return isObject(value) ? null : "must be an object of argument schemas";
    case "required":
      return Array.isArray(value) && value.every((v) => typeof v === "string") &&
          new Set(value).size === value.length
        ? null
        : "must be a list of distinct argument names";
    case "schema":
      return isObject(value) ? null : "must be a JSON Schema object";
    case "schema_or_boolean":
      return typeof value === "boolean" || isObject(value)
        ? null
        : "must be true, false or a JSON Schema object";
    case "schemas":
      if (!Array.isArray(value) || !value.every(isObject)) {
        return "must be a list of JSON Schema objects (the choices)";
      }
      if (value.length === 0) return "is an empty list, so no value can match";
      return value.length > INPUT_SCHEMA_LIMITS.branches
        ? `has more than ${INPUT_SCHEMA_LIMITS.branches} choices`
        : null;
  }
}

/**
 * Validates arguments against a usable input_schema. zod (z.fromJSONSchema) checks what it checks
 * soundly; the rest is taken out of the copy it sees and checked where it applies:
 * - patterns, with RE2JS, so matching time stays linear in the argument's length;
 * - each `anyOf` / `oneOf` choice, with its own validator built the same way;
 * - keywords of one kind of value (`required`, `minLength`, `items`, …) in a schema whose `type`
 *   is absent or a list: z.fromJSONSchema ignores them there, while JSON Schema applies them to
 *   every value of that kind (OpenAPI's untyped object choices rely on it).
 */
export function compileInputSchema(schema: Record<string, unknown>): z.ZodType {
  const checks: AnchoredCheck[] = [];
  const stripped = strip(schema, [], checks);
  const base = z.fromJSONSchema(stripped as Parameters<typeof z.fromJSONSchema>[0]);
  if (checks.length === 0) return base;
  return base.superRefine((value, ctx) => {
    for (const { path, check } of checks) {
      for (const [at, found] of valuesAt(value, path, [])) {
        for (const issue of check(found)) {
          ctx.addIssue({ code: "custom", path: [...at, ...issue.path], message: issue.message });
        }
      }
    }
  });
}

type Issue = { path: PropertyKey[]; message: string };

/** A rule zod can't be trusted with, and where in the value it applies. */
interface AnchoredCheck {
  path: string[];
  /** Why the value found there fails; empty when it doesn't. */
  check: (value: unknown) => Issue[];
}

function patternCheck(source: string): AnchoredCheck["check"] {
  const matcher = RE2JS.compile(source);
  return (value) =>
    typeof value !== "string" || matcher.matcher(value).find()
      ? []
      : [{ path: [], message: `must match the pattern ${source}` }];
}

/** `anyOf`: at least one choice accepts the value; `oneOf`: exactly one does. */
function choiceCheck(keyword: "anyOf" | "oneOf", choices: unknown[]): AnchoredCheck["check"] {
  const validators = choices.map((choice) => compileInputSchema(choice as Record<string, unknown>));
  const types = choices.map((choice) => (choice as Record<string, unknown>).type);
  return (value) => {
    // A choice whose `type` the value doesn't have is ruled out without building a zod error.
    const kind = jsonType(value);
    const results = validators.map((validator, i) =>
      typeAdmits(types[i], kind) ? validator.safeParse(value) : {
        success: false as const,
        error: { issues: [{ path: [], message: `expected ${[types[i]].flat().join(" or ")}` }] },
      }
    );
    const passed = results.flatMap((result, i) => result.success ? [i + 1] : []);
    if (passed.length === 1 || (keyword === "anyOf" && passed.length > 1)) return [];
    if (passed.length > 1) {
      const message = `matches choices ${
        passed.join(" and ")
      } of ${keyword}, which allows exactly one`;
      return [{ path: [], message }];
    }
    const why = results.map((result, i) => {
      const issue = result.error?.issues[0];
      const at = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      return `choice ${i + 1}: ${at}${issue?.message ?? "no match"}`;
    });
    const message = `must match ${keyword === "oneOf" ? "exactly one" : "at least one"} of the ` +
      `${validators.length} choices (${keyword}); ${why.join("; ")}`;
    return [{ path: [], message }];
  };
}

/** The JSON Schema type of a JSON value ("integer" for whole numbers). */
function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Whether a schema's `type` (absent, one, or a list) admits a value of this JSON type. */
function typeAdmits(type: unknown, kind: string): boolean {
  if (type === undefined) return true;
  const types = Array.isArray(type) ? type : [type];
  return types.includes(kind) || (kind === "integer" && types.includes("number"));
}

/** Keywords that apply to one kind of value only, by the `type` that kind has. */
const KIND_KEYWORDS = {
  object: ["properties", "required", "additionalProperties"],
  array: ["items", "minItems", "maxItems"],
  string: ["minLength", "maxLength"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
} as const;

const IS_KIND: Record<keyof typeof KIND_KEYWORDS, (value: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (value) => typeof value === "string",
  number: (value) => typeof value === "number",
};

/** The keywords of one kind, applied to values of that kind only (others pass). */
function kindCheck(
  kind: keyof typeof KIND_KEYWORDS,
  keywords: Record<string, unknown>,
): AnchoredCheck["check"] {
  const validator = compileInputSchema({ ...keywords, type: kind });
  return (value) => {
    if (!IS_KIND[kind](value)) return [];
    const result = validator.safeParse(value);
    return result.success
      ? []
      : result.error.issues.map(({ path, message }) => ({ path, message }));
  };
}

/**
 * A copy for z.fromJSONSchema without patterns, choices, and (where `type` is absent or a list)
 * keywords of one kind of value; each is recorded as a check with where in the value it applies.
 */
function strip(node: unknown, path: string[], out: AnchoredCheck[]): unknown {
  if (!isObject(node)) return node;
  let rest = node;
  if (typeof node.type !== "string") {
    rest = { ...node };
    for (const [kind, keys] of Object.entries(KIND_KEYWORDS)) {
      const keywords: Record<string, unknown> = {};
      for (const key of keys) {
        if (key in rest) {
          keywords[key] = rest[key];
          delete rest[key];
        }
      }
      if (Object.keys(keywords).length > 0) {
        out.push({ path, check: kindCheck(kind as keyof typeof KIND_KEYWORDS, keywords) });
      }
    }
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === "pattern" && typeof value === "string") {
      out.push({ path, check: patternCheck(value) });
    } else if ((key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
      out.push({ path, check: choiceCheck(key, value) });
    } else if (key === "properties" && isObject(value)) {
      copy.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, strip(sub, [...path, name], out)]),
      );
    } else if (key === "items") {
      copy.items = strip(value, [...path, "[]"], out);
    } else if (key === "additionalProperties") {
      // "{}" = every property but the declared ones, listed after it.
      const declared = isObject(rest.properties) ? Object.keys(rest.properties) : [];
      copy.additionalProperties = strip(value, [...path, "{}", ...declared, "{/}"], out);
    } else {
      copy[key] = value;
    }
  }
  return copy;
}

/** The values found at a schema path ("[]" = every item, "{}" … "{/}" = undeclared properties). */
function valuesAt(value: unknown, path: string[], at: (string | number)[]): [
  (string | number)[],
  unknown,
][] {
  if (path.length === 0) return [[at, value]];
  const [step, ...rest] = path;
  if (step === "[]") {
    return Array.isArray(value) ? value.flatMap((item, i) => valuesAt(item, rest, [...at, i])) : [];
  }
  if (!isObject(value)) return [];
  if (step === "{}") {
    const end = rest.indexOf("{/}");
    const declared = new Set(rest.slice(0, end));
    return Object.entries(value).filter(([name]) => !declared.has(name))
      .flatMap(([name, sub]) => valuesAt(sub, rest.slice(end + 1), [...at, name]));
  }
  return step in value ? valuesAt(value[step], rest, [...at, step]) : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
