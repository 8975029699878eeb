/**
 * The OpenAPI → http tool mapping, rule by rule, on small documents; and on the real documents,
 * that every tool it plans passes the function's definition contract.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { loadDocument } from "../../scripts/lib/import_openapi.ts";
import { planImport, toolBaseName } from "../../scripts/lib/openapi_import.ts";
import { parseHttpDefinition } from "../../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { DOCUMENTS } from "../support/openapi_documents.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const doc = (paths: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  openapi: "3.0.3",
  info: { title: "T", version: "1" },
  paths,
  ...extra,
});

Deno.test("names: operationId in snake_case, prefixed, unique, within the catalog's pattern", () => {
  equal(toolBaseName("getPetById"), "get_pet_by_id");
  equal(toolBaseName("repos/get-content"), "repos_get_content");
  equal(toolBaseName("HTTPStatus"), "http_status");
  equal(toolBaseName("123go"), "op_123go");
  const plan = planImport(
    doc({
      "/a": {
        get: { operationId: "listThings", responses: {} },
        post: { operationId: "list_things", responses: {} },
      },
      "/b/{id}": {
        delete: { responses: {} },
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      },
      [`/${"x".repeat(80)}`]: { get: { operationId: "y".repeat(80), responses: {} } },
    }),
    { prefix: "p_" },
  );
  deepStrictEqual(plan.tools.map((t) => t.name), [
    "p_list_things",
    "p_list_things_2",
    "p_delete_b_id",
    `p_${"y".repeat(62)}`,
  ]);
  for (const t of plan.tools) match(t.name, /^[a-z][a-z0-9_]{1,63}$/);
});

Deno.test("arguments: path, query, header and JSON body, each mapped to its place", () => {
  const plan = planImport(doc({
    "/users/{user-id}/posts": {
      parameters: [{ name: "user-id", in: "path", required: true, schema: { type: "integer" } }],
      post: {
        operationId: "createPost",
        summary: "Create a post",
        description: "Creates a post for the user.",
        parameters: [
          { name: "dry", in: "query", schema: { type: "boolean" } },
          { name: "X-Request-Id", in: "header", schema: { type: "string" } },
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                allOf: [
                  {
                    type: "object",
                    properties: { title: { type: "string", nullable: true } },
                    required: ["title"],
                  },
                  {
                    type: "object",
                    properties: {
                      id: { type: "string", readOnly: true },
                      tags: { type: "array", items: { type: "string" } },
                    },
                  },
                ],
              },
            },
          },
        },
        responses: { 201: { description: "ok", content: { "application/json": {} } } },
      },
    },
  }));
  const [tool] = plan.tools;
  const d: Any = tool.definition;
  equal(d.method, "POST");
  equal(d.path, "/users/{user_id}/posts");
  deepStrictEqual(d.query, ["dry"]);
  deepStrictEqual(d.headers, { "X-Request-Id": "X_Request_Id" });
  deepStrictEqual(d.body, ["title", "tags"]);
  deepStrictEqual(d.input_schema.required, ["user_id", "title"]);
  deepStrictEqual(d.input_schema.properties.title.type, ["string", "null"]);
  equal(d.response.type, "json");
  equal(d.title, "Create a post");
  equal(tool.description, "Create a post\n\nCreates a post for the user.");
  parseHttpDefinition(tool.name, d);
});

Deno.test("hints: GET read-only, DELETE destructive, PUT idempotent", () => {
  const plan = planImport(doc({
    "/x": {
      get: { operationId: "getX", responses: {} },
      put: { operationId: "pu", responses: {} },
      delete: { operationId: "delX", responses: {} },
      post: { operationId: "po", responses: {} },
    },
  }));
  const hints = Object.fromEntries(
    plan.tools.map((t) => [t.name, (t.definition as Any).annotations]),
  );
  deepStrictEqual(hints, {
    get_x: { readOnlyHint: true },
    pu: { idempotentHint: true },
    del_x: { destructiveHint: true, idempotentHint: true },
    po: undefined,
  });
});

Deno.test("what can't be represented is listed with the reason; optional parts are noted", () => {
  const plan = planImport(doc({
    "/upload": {
      post: {
        operationId: "upload",
        requestBody: {
          required: true,
          content: { "multipart/form-data": { schema: { type: "object" } } },
        },
        responses: {},
      },
    },
    "/session": {
      get: {
        operationId: "session",
        parameters: [{ name: "sid", in: "cookie", required: true, schema: { type: "string" } }],
        responses: {},
      },
      options: { operationId: "probe", responses: {} },
    },
    "/list": {
      get: {
        operationId: "list",
        parameters: [
          { name: "page[size]", in: "query", schema: { type: "integer" } },
          { name: "filter", in: "query", style: "deepObject", schema: { type: "object" } },
        ],
        responses: {},
      },
    },
    "/bulk": {
      post: {
        operationId: "bulk",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { type: "array", items: {} } } },
        },
        responses: {},
      },
    },
  }));
  const reasons = Object.fromEntries(plan.skipped.map((s) => [s.operationId, s.reason]));
  match(reasons.upload, /multipart\/form-data/);
  match(reasons.session, /cookie/);
  match(reasons.probe, /OPTIONS is not sent/);
  match(reasons.bulk, /not one object/);
  deepStrictEqual(plan.tools.map((t) => t.name), ["list"]);
  equal(plan.notes.length, 2);
  match(plan.notes[0], /page\[size\].*argument name/);
  match(plan.notes[1], /filter.*object-valued/);
});

Deno.test("HEAD operations: imported read-only, without a body, answered by status and headers", () => {
  const plan = planImport(doc({
    "/files/{id}": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      head: {
        operationId: "fileInfo",
        summary: "Does the file exist, and how big is it",
        parameters: [{ name: "If-None-Match", in: "header", schema: { type: "string" } }],
        requestBody: { content: { "application/json": { schema: { type: "object" } } } },
        responses: { 200: { description: "ok", content: { "application/json": {} } } },
      },
    },
  }));
  deepStrictEqual(plan.skipped, []);
  const [tool] = plan.tools;
  equal(tool.name, "file_info");
  deepStrictEqual(tool.definition, {
    method: "HEAD",
    path: "/files/{id}",
    title: "Does the file exist, and how big is it",
    input_schema: {
      type: "object",
      properties: { id: { type: "string" }, If_None_Match: { type: "string" } },
      required: ["id"],
    },
    headers: { "If-None-Match": "If_None_Match" },
    response: { type: "auto" },
    annotations: { readOnlyHint: true },
  });
  match(plan.notes.join("\n"), /optional request body left out: a HEAD request can't carry a body/);
});

Deno.test("anyOf / oneOf in parameters and body fields are kept as the document gives them", () => {
  const card = {
    type: "object",
    properties: { number: { type: "string", pattern: "^[0-9]{12,19}$" } },
    required: ["number"],
  };
  const bank = { type: "object", properties: { iban: { type: "string" } }, required: ["iban"] };
  const plan = planImport(doc({
    "/pay": {
      post: {
        operationId: "pay",
        parameters: [{
          name: "ref",
          in: "query",
          schema: { oneOf: [{ type: "string" }, { type: "integer" }] },
        }],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { source: { anyOf: [card, bank], discriminator: {} } },
                required: ["source"],
              },
            },
          },
        },
        responses: {},
      },
    },
  }));
  deepStrictEqual(plan.skipped, []);
  const schema = plan.tools[0].definition.input_schema as Any;
  deepStrictEqual(schema.properties.ref, { oneOf: [{ type: "string" }, { type: "integer" }] });
  deepStrictEqual(schema.properties.source, { anyOf: [card, bank] });
  deepStrictEqual(schema.required, ["source"]);
  const { input } = parseHttpDefinition("pay", plan.tools[0].definition);
  equal(input.safeParse({ source: { iban: "DE89" }, ref: 7 }).success, true);
  equal(input.safeParse({ source: { number: "4242" } }).success, false);
});

Deno.test("security schemes: bearer, header API key and OAuth map; basic and query keys are reported", () => {
  const schemes = (securitySchemes: Record<string, unknown>, security?: unknown) =>
    planImport(doc({ "/x": { get: { operationId: "x", responses: {} } } }, {
      components: { securitySchemes },
      ...(security ? { security } : {}),
    })).auth;
  deepStrictEqual(schemes({ Token: { type: "http", scheme: "bearer" } }).auth, {
    type: "bearer",
    secret: "token",
  });
  deepStrictEqual(schemes({ ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" } }).auth, {
    type: "header",
    header: "X-API-Key",
    secret: "api_key",
  });
  const basic = schemes({
    basic: { type: "http", scheme: "basic" },
    q: { type: "apiKey", in: "query", name: "k" },
  });
  equal(basic.auth, undefined);
  deepStrictEqual(basic.unmapped.map((u) => u.scheme), ["basic", "q"]);
  // The scheme the document asks for first wins; the others are reported.
  const both = schemes(
    { a: { type: "apiKey", in: "header", name: "X-A" }, b: { type: "oauth2", flows: {} } },
    [{ b: [] }],
  );
  equal(both.scheme, "b");
  deepStrictEqual(both.unmapped.map((u) => u.scheme), ["a"]);
});

Deno.test("--only picks operations by operationId or tool name; unknown ones are reported", () => {
  const plan = planImport(
    doc({
      "/a": {
        get: { operationId: "getA", responses: {} },
        post: { operationId: "postA", responses: {} },
      },
    }),
    { only: ["getA", "nope"] },
  );
  deepStrictEqual(plan.tools.map((t) => t.name), ["get_a"]);
  deepStrictEqual(plan.skipped, [{
    operation: "nope",
    reason: "no operation with this operationId or name",
  }]);
});

Deno.test("Swagger 2.0 and unknown versions are refused", () => {
  let error: Error | undefined;
  try {
    planImport({ swagger: "2.0", paths: {} });
  } catch (err) {
    error = err as Error;
  }
  match(String(error?.message), /not an OpenAPI 3\.0 or 3\.1 document/);
});

Deno.test("real documents: every planned tool passes the definition contract, recursion is cut", async () => {
  for (const [name, file] of Object.entries(DOCUMENTS)) {
    const plan = planImport(await loadDocument(file));
    ok(plan.tools.length > 0, name);
    for (const tool of plan.tools) {
      parseHttpDefinition(tool.name, tool.definition);
      // Plain JSON: recursive schemas (Galaxy's planet ↔ satellite) end in an open schema.
      JSON.stringify(tool.definition);
    }
  }
});
