/**
 * HTTP tool definitions and tenant secrets in the database: bad definitions refused on save with
 * a message an admin can act on (and refused by the function's own check alike), the family's
 * config requirements, and secrets that stay encrypted, per tenant, and out of the API roles' reach.
 */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { parseHttpDefinition } from "../../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { createTenant, lit } from "../support/fixtures.ts";
import { addHttpTool, httpTenant, setSecret, uniqueName } from "../support/http_fixtures.ts";
import {
  HOSTILE_DEFINITIONS,
  USABLE_DEFINITIONS,
  withArgument,
} from "../support/hostile_definitions.ts";
import { stack } from "../support/stack.ts";

const GOOD = {
  method: "GET",
  path: "/orders/{order_id}",
  input_schema: {
    type: "object",
    properties: { order_id: { type: "string" }, limit: { type: "integer" } },
    required: ["order_id"],
  },
  query: ["limit"],
};

/** [what is wrong, the definition, what the admin is told] */
const BAD: [string, Record<string, unknown>, RegExp][] = [
  ["unknown method", { ...GOOD, method: "FETCH" }, /method must be one of/],
  [
    "path without slash",
    { ...GOOD, path: "orders/{order_id}" },
    /path must match .* \(starts with \/ and holds no query/,
  ],
  ["query in path", { ...GOOD, path: "/orders/{order_id}?x=1" }, /no query/],
  ["space in path", { ...GOOD, path: "/orders/{order_id} x" }, /path must match/],
  ["tab in path", { ...GOOD, path: "/orders/\t{order_id}" }, /path must match/],
  ["unbalanced brace", { ...GOOD, path: "/orders/{order_id" }, /unbalanced/],
  [
    "placeholder not in schema",
    { ...GOOD, path: "/orders/{id}" },
    /"id" \(path\) is not in input_schema/,
  ],
  [
    "path argument optional",
    { ...GOOD, input_schema: { ...GOOD.input_schema, required: [] } },
    /must be listed in input_schema.required/,
  ],
  ["argument never sent", { ...GOOD, query: [] }, /"limit" is in input_schema but not sent/],
  [
    "argument used twice",
    { ...GOOD, query: ["limit"], headers: { "X-Limit": "limit" } },
    /used twice/,
  ],
  [
    "reserved header",
    { ...GOOD, query: [], headers: { Authorization: "limit" } },
    /can't be set from an argument/,
  ],
  ["body on GET", { ...GOOD, query: [], body: ["limit"] }, /GET request can't have body/],
  [
    "body on HEAD",
    { ...GOOD, method: "HEAD", query: [], body: ["limit"] },
    /HEAD request can't have body/,
  ],
  [
    "schema not an object",
    { ...GOOD, input_schema: { type: "string" } },
    /input_schema\.type must be "object"/,
  ],
  [
    "schema not even an object",
    { ...GOOD, input_schema: "order_id" },
    /input_schema must be an object, not a string \(a JSON Schema object with "type": "object"\)/,
  ],
  [
    "placeholder not an argument name",
    { ...GOOD, path: "/orders/{order-id}" },
    /path placeholder \{order-id\} is not an argument name/,
  ],
  [
    "query names no argument",
    { ...GOOD, query: ["li mit"] },
    /query\[0\] must match .* \(an argument name: letters, digits and _\)/,
  ],
  [
    "bad header name",
    { ...GOOD, query: [], headers: { "X Limit": "limit" } },
    /headers name "X Limit" must match .* \(a header name\)/,
  ],
  [
    "max_chars too small",
    { ...GOOD, response: { max_chars: 10 } },
    /response.max_chars must be at least 100/,
  ],
  [
    "max_chars not whole",
    { ...GOOD, response: { max_chars: 100.5 } },
    /response.max_chars must be a whole number/,
  ],
  ["empty title", { ...GOOD, title: "" }, /title must be at least 1 characters/],
  [
    "annotation not a boolean",
    { ...GOOD, annotations: { readOnlyHint: "yes" } },
    /annotations.readOnlyHint must be a boolean, not a string/,
  ],
  [
    "unknown annotation",
    { ...GOOD, annotations: { cached: true } },
    /annotations.cached is not a known/,
  ],
  ["method not text", { ...GOOD, method: 1 }, /method must be a string, not 1/],
  ["unknown field", { ...GOOD, url: `http://x` }, /url/],
  ["bad response type", { ...GOOD, response: { type: "xml" } }, /response.type/],
  ["timeout out of range", { ...GOOD, timeout_ms: 10 }, /timeout_ms/],
];

Deno.test("definitions: bad ones are refused on save with a message naming the problem", async () => {
  for (const [what, definition, message] of BAD) {
    await rejects(addHttpTool(definition), (err: Error) => {
      match(err.message, /HTTP tool "api_\w+" has an invalid definition/, what);
      match(err.message, message, what);
      return true;
    }, what);
  }
  await rejects(
    stack.psql(
      `insert into public.tool_catalog (name, family, description) values (${
        lit(uniqueName("api"))
      }, 'http', 'x')`,
    ),
    /needs a definition/,
  );
  // Editing a stored one into a bad state is refused the same way.
  const name = await addHttpTool(GOOD);
  await rejects(
    stack.psql(
      `update public.tool_catalog set definition = definition - 'method' where name = ${lit(name)}`,
    ),
    /method is required/,
  );
});

/** Definitions both sides must accept. */
const ACCEPTED: [string, Record<string, unknown>][] = [
  ["minimal", GOOD],
  [
    "every field",
    {
      method: "POST",
      path: "/orgs/{org}/orders",
      title: "Create an order",
      input_schema: {
        type: "object",
        properties: {
          org: { type: "string" },
          item: { type: "string" },
          qty: { type: "integer" },
          etag: { type: "string" },
          dry_run: { type: "boolean" },
        },
        required: ["org", "item"],
      },
      query: ["dry_run"],
      body: ["item", "qty"],
      headers: { "If-Match": "etag" },
      response: { type: "json", max_chars: 100 },
      annotations: { readOnlyHint: false, destructiveHint: false },
      timeout_ms: 120_000,
    },
  ],
  ["no arguments", { method: "DELETE", path: "/cache", input_schema: { type: "object" } }],
  ["header argument", { ...GOOD, query: [], headers: { "X-Limit": "limit" } }],
  [
    "HEAD with a conditional header",
    { ...GOOD, method: "HEAD", query: [], headers: { "If-None-Match": "limit" } },
  ],
];

Deno.test("definitions: the database and the function accept and refuse the same ones", async () => {
  const cases = [
    ...ACCEPTED.map(([what, definition]) => [what, definition, true] as const),
    ...BAD.map(([what, definition]) => [what, definition, false] as const),
  ];
  const verdicts = JSON.parse(
    await stack.psql(`select jsonb_agg(cardinality(private.http_tool_definition_problems(d)) = 0
      order by i) from jsonb_array_elements(${
      lit(JSON.stringify(cases.map(([, definition]) => definition)))
    }::jsonb) with ordinality as c (d, i)`),
  ) as boolean[];
  cases.forEach(([what, definition, accepted], i) => {
    let function_accepts = true;
    try {
      parseHttpDefinition("case", definition);
    } catch {
      function_accepts = false;
    }
    equal(function_accepts, accepted, `${what}: the function`);
    equal(verdicts[i], accepted, `${what}: the database`);
  });
});

Deno.test("definitions: hostile input schemas are refused by both sides; usable ones accepted by both", async () => {
  const cases = [
    ...HOSTILE_DEFINITIONS.map(([what, definition]) => [what, definition, false] as const),
    ...USABLE_DEFINITIONS.map(([what, definition]) => [what, definition, true] as const),
  ];
  const verdicts = JSON.parse(
    await stack.psql(`select jsonb_agg(cardinality(private.http_tool_definition_problems(d)) = 0
      order by i) from jsonb_array_elements(${
      lit(JSON.stringify(cases.map(([, definition]) => definition)))
    }::jsonb) with ordinality as c (d, i)`),
  ) as boolean[];
  const disagreements = cases.flatMap(([what, definition, accepted], i) => {
    let fn = true;
    try {
      parseHttpDefinition("case", definition);
    } catch {
      fn = false;
    }
    return fn === accepted && verdicts[i] === accepted
      ? []
      : [`${what}: function ${fn}, database ${verdicts[i]}, expected ${accepted}`];
  });
  equal(disagreements.join("\n"), "");
  // On save, the admin reads the reason.
  await rejects(
    addHttpTool(HOSTILE_DEFINITIONS[0][1] as Record<string, unknown>),
    /input_schema\.properties\.q\.multipleOf must be a number more than 0/,
  );
  await rejects(
    addHttpTool(withArgument({ type: "string", pattern: "^(a)\\1$" })),
    /back-reference or look-around/,
  );
});

Deno.test("http family: enabling an HTTP tool requires config.http with a base URL and no inline credential", async () => {
  const name = await addHttpTool(GOOD);
  await rejects(createTenant([name]), /config\.http is required/);
  await rejects(
    httpTenant([name], { http: { base_url: "ftp://files.example.com" } }),
    /config\.http\.base_url must/,
  );
  await rejects(
    httpTenant([name], {
      http: { base_url: "https://api.example.com", auth: { type: "bearer", token: "sk_live_x" } },
    }),
    /config\.http\.auth\.token is not a known setting/,
  );
  const ok1 = await httpTenant([name], {
    http: {
      base_url: "https://api.example.com/v1",
      headers: { "X-Client-Id": "c-1", "X-Signature": { secret: "signing_key" } },
      auth: { type: "bearer", secret: "api_token" },
    },
  });
  ok(ok1.id);
});

Deno.test("tool ownership: a tenant-specific HTTP tool can be enabled only by its tenant", async () => {
  const owner = await createTenant([]);
  const name = await addHttpTool(GOOD, { tenantId: owner.id });
  const config = { http: { base_url: "https://api.example.com" } };
  await stack.psql(
    `update public.tenants set config = ${
      lit(JSON.stringify(config))
    }::jsonb, enabled_tools = array[${lit(name)}]
     where id = ${lit(owner.id)}::uuid`,
  );
  await rejects(httpTenant([name], config), /belong to another tenant/);
});

Deno.test("secrets: encrypted at rest, per tenant, and only for the service role", async () => {
  const a = await createTenant([]);
  const b = await createTenant([]);
  const value = `sk_live_${crypto.randomUUID()}`;
  await setSecret(a.slug, "api_token", value);
  await setSecret(b.slug, "api_token", "b-token-value-0000");

  const stored = await stack.psql(
    `select encode(ciphertext, 'escape') from private.tenant_secrets where tenant_id = ${
      lit(a.id)
    }::uuid`,
  );
  ok(stored.length > 0 && !stored.includes(value), "no plaintext in the table");

  const resolve = (tenantId: string, key: string | null) =>
    stack.psql(
      `select public.resolve_tenant_secrets(${lit(tenantId)}::uuid, array['api_token', 'other'], ${
        key === null ? "null" : lit(key)
      })`,
    );
  deepStrictEqual(JSON.parse(await resolve(a.id, stack.info.tenantSecretsKey)), {
    api_token: value,
  });
  deepStrictEqual(JSON.parse(await resolve(b.id, stack.info.tenantSecretsKey)), {
    api_token: "b-token-value-0000",
  });
  await rejects(resolve(a.id, null), /encrypted under TENANT_SECRETS_KEY/);
  await rejects(resolve(a.id, "a different key of at least 32 chars"), /cannot be decrypted/);

  // An admin without the key, or with another key, is told what to do.
  await rejects(
    stack.psql(`select public.set_tenant_secret(${lit(a.slug)}, 'x', 'v')`),
    /Vault is not installed[\s\S]*fourth argument/,
  );
  await rejects(
    stack.psql(
      `select public.set_tenant_secret(${
        lit(a.slug)
      }, 'x', 'v', 'a different key of at least 32 chars')`,
    ),
    /not the TENANT_SECRETS_KEY/,
  );
  await rejects(setSecret(a.slug, "Bad Name", "v"), /not valid/);

  // Through the API: the function's service role may resolve; anon and authenticated may not.
  const rpc = (key: string) =>
    fetch(`${stack.info.supabaseUrl}/rest/v1/rpc/resolve_tenant_secrets`, {
      method: "POST",
      headers: { apikey: key, authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        p_tenant_id: a.id,
        p_names: ["api_token"],
        p_key: stack.info.tenantSecretsKey,
      }),
    });
  const asService = await rpc(stack.info.serviceRoleKey);
  deepStrictEqual(await asService.json(), { api_token: value });
  for (const key of [stack.info.anonKey, stack.info.authenticatedKey]) {
    const res = await rpc(key);
    const text = await res.text();
    ok(res.status >= 400, `expected a refusal, got ${res.status}`);
    ok(!text.includes(value));
  }
  const table = await fetch(`${stack.info.supabaseUrl}/rest/v1/tenant_secrets`, {
    headers: {
      apikey: stack.info.serviceRoleKey,
      authorization: `Bearer ${stack.info.serviceRoleKey}`,
    },
  });
  ok(table.status >= 400, "the private schema is not exposed");
  await table.body?.cancel();

  // Deleting the tenant deletes its secrets.
  equal(
    (await stack.psql(`select public.delete_tenant_secret(${lit(b.slug)}, 'api_token')`)).trim(),
    "t",
  );
  await stack.psql(`delete from public.tenants where id = ${lit(a.id)}::uuid`);
  equal(
    (await stack.psql(
      `select count(*) from private.tenant_secrets where tenant_id in (${lit(a.id)}::uuid, ${
        lit(b.id)
      }::uuid)`,
    )).trim(),
    "0",
  );
});
