/**
 * A tool can only fail itself: a definition the function can't serve is refused (the same table
 * the database refuses, see tests/integration/contracts_test.ts), and one that reaches the
 * function anyway is left out of tools/list, logged once per server build, and answers a call
 * with an isError result, while the tenant's other tools keep working.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { z } from "zod";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { parseHttpDefinition } from "../../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { httpFamily } from "../../supabase/functions/mcp-tools-server/tools/http/family.ts";
import {
  HOSTILE_DEFINITIONS,
  USABLE_DEFINITIONS,
  withArgument,
} from "../support/hostile_definitions.ts";
import { capturingLogger } from "../support/log_capture.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";

function verdict(definition: unknown): string | null {
  try {
    parseHttpDefinition("t", definition);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

Deno.test("tool isolation: every hostile definition is refused with its reason", () => {
  const accepted = HOSTILE_DEFINITIONS.filter(([, d]) => verdict(d) === null).map(([w]) => w);
  deepStrictEqual(accepted, []);
  match(verdict(HOSTILE_DEFINITIONS[0][1])!, /multipleOf must be a number more than 0/);
  match(verdict(withArgument({ type: "string", pattern: "^(a)\\1$" }))!, /back-reference/);
  match(verdict(withArgument({ allOf: [] }))!, /keyword "allOf" is not supported/);
  const choices = (n: number) => Array.from({ length: n }, () => ({ type: "string" }));
  match(verdict(withArgument({ oneOf: choices(33) }))!, /q\.oneOf has more than 32 choices/);
  match(verdict(withArgument({ anyOf: [] }))!, /q\.anyOf is an empty list, so no value can match/);
  match(
    verdict(withArgument({ anyOf: [{ type: "string", pattern: "(?=a)" }] }))!,
    /q\.anyOf\[0\]\.pattern uses a back-reference or look-around/,
  );
  match(
    verdict(
      withArgument({
        anyOf: [{ anyOf: [{ anyOf: [{ anyOf: [{ anyOf: [{ anyOf: [{}] }] }] }] }] }],
      }),
    )!,
    /is nested deeper than 6 levels/,
  );
});

Deno.test("tool isolation: usable definitions are accepted", () => {
  const refused = USABLE_DEFINITIONS.map(([w, d]) => [w, verdict(d)]).filter(([, v]) => v);
  deepStrictEqual(refused, []);
});

Deno.test("tool isolation: patterns match in linear time (RE2JS), and still apply", () => {
  const { input } = parseHttpDefinition(
    "t",
    withArgument({ type: "string", pattern: "^(a+)+$" }),
  );
  // 2^60 steps on a backtracking engine: this test would never finish.
  equal(input.safeParse({ q: "a".repeat(60) + "b" }).success, false);
  equal(input.safeParse({ q: "a".repeat(60) }).success, true);
  const nested = parseHttpDefinition(
    "t",
    withArgument({
      type: "object",
      properties: { a: { type: "string", pattern: "^[a-z]+$" } },
      additionalProperties: { type: "string", pattern: "^[0-9]+$" },
    }),
  ).input;
  equal(nested.safeParse({ q: { a: "abc", n: "123" } }).success, true);
  const bad = nested.safeParse({ q: { a: "ABC", n: "x" } });
  equal(bad.success, false);
  deepStrictEqual(bad.error!.issues.map((i) => i.path.join(".")).sort(), ["q.a", "q.n"]);
});

Deno.test("tool isolation: anyOf / oneOf choices are checked on every call, patterns in them on RE2JS", () => {
  const { input } = parseHttpDefinition(
    "t",
    withArgument({
      anyOf: [
        {
          type: "object",
          properties: { number: { type: "string", pattern: "^(a+)+$" } },
          required: ["number"],
        },
        { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] },
      ],
    }),
  );
  equal(input.safeParse({ q: { number: "aaa" } }).success, true);
  equal(input.safeParse({ q: { iban: "DE89" } }).success, true);
  // The pattern belongs to the first choice only: a value the second accepts passes.
  equal(input.safeParse({ q: { number: "b", iban: "DE89" } }).success, true);
  // 2^60 steps on a backtracking engine: this would never finish.
  const bad = input.safeParse({ q: { number: "a".repeat(60) + "b" } });
  equal(bad.success, false);
  equal(bad.error!.issues[0].path.join("."), "q");
  match(
    bad.error!.issues[0].message,
    /must match at least one of the 2 choices \(anyOf\); choice 1: number: must match the pattern .*; choice 2: iban: /,
  );

  const one = parseHttpDefinition(
    "t",
    withArgument({ type: "array", items: { oneOf: [{ type: "integer" }, { type: "number" }] } }),
  ).input;
  equal(one.safeParse({ q: [1.5, 2.5] }).success, true);
  // 3 is an integer and a number: oneOf allows exactly one.
  const both = one.safeParse({ q: [1.5, 3] });
  equal(both.success, false);
  equal(both.error!.issues[0].path.join("."), "q.1");
  match(
    both.error!.issues[0].message,
    /matches choices 1 and 2 of oneOf, which allows exactly one/,
  );
  const none = one.safeParse({ q: ["x"] });
  match(none.error!.issues[0].message, /must match exactly one of the 2 choices \(oneOf\)/);
  // An absent optional argument is not checked against the choices.
  const optional = parseHttpDefinition("t", {
    ...withArgument({ anyOf: [{ type: "string" }, { type: "integer" }] }),
    input_schema: {
      type: "object",
      properties: { q: { anyOf: [{ type: "string" }, { type: "integer" }] } },
    },
  }).input;
  equal(optional.safeParse({}).success, true);
  equal(optional.safeParse({ q: true }).success, false);
});

Deno.test("tool isolation: keywords of one kind of value apply where type is absent or a list", () => {
  // OpenAPI documents often leave `type` out of object choices: `required` still applies.
  const { input } = parseHttpDefinition(
    "t",
    withArgument({
      anyOf: [
        { properties: { cvc: { type: "integer" } }, required: ["cvc"] },
        { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] },
      ],
    }),
  );
  equal(input.safeParse({ q: { cvc: 123 } }).success, true);
  equal(input.safeParse({ q: { cvc: "123" } }).success, false);
  equal(input.safeParse({ q: { name: "x" } }).success, false);
  // JSON Schema: object keywords say nothing about a value that is not an object.
  equal(input.safeParse({ q: "text" }).success, true);

  const nullable = parseHttpDefinition(
    "t",
    withArgument({
      type: ["object", "null"],
      properties: { a: { type: "string", pattern: "^[a-z]+$" } },
      required: ["a"],
    }),
  ).input;
  equal(nullable.safeParse({ q: null }).success, true);
  equal(nullable.safeParse({ q: { a: "abc" } }).success, true);
  const missing = nullable.safeParse({ q: {} });
  equal(missing.success, false);
  const wrong = nullable.safeParse({ q: { a: "ABC" } });
  equal(wrong.success, false);
  deepStrictEqual(wrong.error!.issues.map((i) => i.path.join(".")), ["q.a"]);
  const bounded = parseHttpDefinition(
    "t",
    withArgument({ type: ["string", "integer"], minLength: 2, minimum: 10 }),
  ).input;
  deepStrictEqual(
    ["ab", "a", 10, 9].map((q) => bounded.safeParse({ q }).success),
    [true, false, true, false],
  );
});

const httpRow = (name: string, definition: unknown) => ({
  name,
  family: "http",
  version: 1,
  description: `${name} (test)`,
  definition,
});

Deno.test("tool isolation: a definition that slipped through is left out, logged once per build, and answers isError", async () => {
  const tenants = new MemoryTenants();
  tenants.addRow(httpRow("broken_search", withArgument({ type: "number", multipleOf: 0 })));
  const log = capturingLogger();
  const app = unitApp(tenants, { log });
  const a = await tenants.add(["echo", "tenant_info", "broken_search"]);
  const b = await tenants.add(["echo", "tenant_info", "broken_search"]);
  for (const key of [a.key, b.key, a.key]) {
    const list = await post(app, listTools(), { key });
    equal(list.status, 200);
    deepStrictEqual(toolNames(list), ["echo", "tenant_info"]);
    const info = await post(app, callTool("tenant_info"), { key });
    equal(info.status, 200);
    ok(!info.body.result.isError);
    const echo = await post(app, callTool("echo", { text: "hi" }), { key });
    equal(echo.body.result.content[0].text, "hi");
    const broken = await post(app, callTool("broken_search", { q: 1 }), { key });
    equal(broken.status, 200);
    equal(broken.body.result.isError, true);
    match(broken.body.result.content[0].text, /"broken_search" is enabled but can't be served/);
    match(broken.body.result.content[0].text, /multipleOf must be a number more than 0/);
  }
  const logged = log.named("tools_left_out");
  equal(logged.length, 1, "one server for both keys' tool set, so one log line");
  match(JSON.stringify(logged[0].fields), /broken_search/);
});

Deno.test("tool isolation: a schema that can't be published leaves out only that tool", async () => {
  const unpublishable = defineTool({
    name: "big_numbers",
    family: "extra",
    description: "takes a bigint, which JSON Schema can't express",
    input: z.object({ n: z.bigint() }),
    run: () => ({ content: [{ type: "text", text: "never" }] }),
  });
  const families = [builtinTools, [unpublishable], httpFamily];
  const tenants = new MemoryTenants(families);
  const log = capturingLogger();
  const app = unitApp(tenants, { families, log });
  const t = await tenants.add(["echo", "big_numbers"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: t.key })), ["echo"]);
  const call = await post(app, callTool("big_numbers", { n: 1 }), { key: t.key });
  equal(call.body.result.isError, true);
  match(call.body.result.content[0].text, /schema can't be published: BigInt/);
  equal(log.named("tools_left_out").length, 1);
  const other = await tenants.add(["echo"]);
  const call2 = await post(app, callTool("big_numbers", { n: 1 }), { key: other.key });
  match(JSON.stringify(call2.body), /Unknown tool|not enabled/);
});
