/**
 * HTTP tool definitions an admin could try to save that the function can't serve safely. Both the
 * function (tests/unit/tool_isolation_test.ts) and the database (tests/integration/contracts_test.ts)
 * must refuse every one; the usable ones at the end must be accepted by both.
 */

/** A GET tool whose one argument `q` (sent in the query) has this schema. */
export function withArgument(schema: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    method: "GET",
    path: "/search",
    query: ["q"],
    input_schema: { type: "object", properties: { q: schema }, required: ["q"], ...extra },
  };
}

const nested = (depth: number): Record<string, unknown> =>
  depth === 0 ? { type: "string" } : { type: "array", items: nested(depth - 1) };

/** Choices inside choices, `depth` levels of `keyword` down to a string. */
const nestedChoices = (keyword: "anyOf" | "oneOf", depth: number): Record<string, unknown> =>
  depth === 0
    ? { type: "string" }
    : { [keyword]: [{ type: "null" }, nestedChoices(keyword, depth - 1)] };

const branches = (n: number) => Array.from({ length: n }, (_, i) => ({ const: `v${i}` }));

/** [what, definition] — every one refused on save. */
export const HOSTILE_DEFINITIONS: [string, unknown][] = [
  ["multipleOf 0", withArgument({ type: "number", multipleOf: 0 })],
  ["negative multipleOf", withArgument({ type: "number", multipleOf: -2 })],
  ["minimum above maximum", withArgument({ type: "number", minimum: 10, maximum: 5 })],
  ["minLength above maxLength", withArgument({ type: "string", minLength: 5, maxLength: 2 })],
  ["minItems above maxItems", withArgument({ type: "array", minItems: 3, maxItems: 1 })],
  ["negative maxLength", withArgument({ type: "string", maxLength: -1 })],
  ["fractional minLength", withArgument({ type: "string", minLength: 1.5 })],
  ["empty type list", withArgument({ type: [] })],
  ["unknown type", withArgument({ type: "strin" })],
  ["empty enum", withArgument({ enum: [] })],
  ["huge enum", withArgument({ enum: Array.from({ length: 5000 }, (_, i) => `v${i}`) })],
  ["enum not a list", withArgument({ enum: "a" })],
  ["deep nesting", withArgument(nested(40))],
  ["$ref", withArgument({ $ref: "#/definitions/x" })],
  ["$defs and $ref", withArgument({ type: "string" }, { $defs: { x: { type: "string" } } })],
  ["allOf", withArgument({ allOf: [{ type: "string" }, { type: "number" }] })],
  ["anyOf with too many choices", withArgument({ anyOf: branches(33) })],
  ["oneOf with too many choices", withArgument({ oneOf: branches(33) })],
  ["anyOf nested too deep", withArgument(nestedChoices("anyOf", 6))],
  ["oneOf nested too deep", withArgument(nestedChoices("oneOf", 6))],
  ["empty anyOf", withArgument({ anyOf: [] })],
  ["empty oneOf", withArgument({ oneOf: [] })],
  ["anyOf not a list", withArgument({ anyOf: { type: "string" } })],
  ["boolean choice", withArgument({ oneOf: [true, { type: "string" }] })],
  ["choice with a back-reference", withArgument({ anyOf: [{ pattern: "^(a)\\1$" }, {}] })],
  ["choice with $ref", withArgument({ oneOf: [{ $ref: "#/x" }, { type: "string" }] })],
  ["choice nothing can match", withArgument({ anyOf: [{ minimum: 5, maximum: 1 }, {}] })],
  [
    "choices past the schema count",
    withArgument({
      type: "object",
      properties: Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`p${i}`, { anyOf: branches(32) }]),
      ),
    }),
  ],
  ["not", withArgument({ not: {} })],
  ["if/then", withArgument({ if: { type: "string" }, then: { minLength: 1 } })],
  ["invalid regex", withArgument({ type: "string", pattern: "([a-z" })],
  ["back-reference", withArgument({ type: "string", pattern: "^(a)\\1$" })],
  ["look-ahead", withArgument({ type: "string", pattern: "^(?=a)a+$" })],
  ["look-behind", withArgument({ type: "string", pattern: "(?<!a)b" })],
  ["pattern too long", withArgument({ type: "string", pattern: "a".repeat(600) })],
  ["pattern not text", withArgument({ type: "string", pattern: 5 })],
  [
    "required but forbidden",
    withArgument({
      type: "object",
      properties: { a: { type: "string" } },
      required: ["b"],
      additionalProperties: false,
    }),
  ],
  ["required repeated", withArgument({ type: "object", required: ["a", "a"] })],
  ["items as a list", withArgument({ type: "array", items: [{ type: "string" }] })],
  ["additionalProperties as text", withArgument({ type: "object", additionalProperties: "no" })],
  ["schema as text", withArgument("string" as unknown as Record<string, unknown>)],
  [
    "too many schemas",
    withArgument({
      type: "object",
      properties: Object.fromEntries(
        Array.from({ length: 600 }, (_, i) => [`p${i}`, { type: "string" }]),
      ),
    }),
  ],
];

/** [what, definition] — usable: accepted by both. */
export const USABLE_DEFINITIONS: [string, unknown][] = [
  ["plain string", withArgument({ type: "string" })],
  [
    "catastrophic-looking pattern (linear on RE2)",
    withArgument({ type: "string", pattern: "^(a+)+$" }),
  ],
  ["bounded number", withArgument({ type: "number", minimum: 1, maximum: 10, multipleOf: 0.5 })],
  ["enum of 200", withArgument({ enum: Array.from({ length: 200 }, (_, i) => `v${i}`) })],
  ["nested to the limit", withArgument(nested(5))],
  [
    "object with extras",
    withArgument({
      type: "object",
      properties: { a: { type: "string", pattern: "^[a-z]+$" } },
      additionalProperties: { type: "integer" },
      required: ["a"],
    }),
  ],
  ["type list", withArgument({ type: ["string", "null"], description: "text or null" })],
  ["anyOf of 32", withArgument({ anyOf: branches(32) })],
  ["oneOf of 32", withArgument({ oneOf: branches(32) })],
  ["choices nested to the limit", withArgument(nestedChoices("anyOf", 5))],
  [
    "object choices with patterns",
    withArgument({
      description: "a card or a bank account",
      anyOf: [
        { type: "object", properties: { number: { type: "string", pattern: "^[0-9]+$" } } },
        { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] },
      ],
    }),
  ],
  ["anyOf and oneOf side by side", withArgument({ anyOf: [{}], oneOf: [{ type: "string" }] })],
];
