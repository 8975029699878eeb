/** End to end through the gateway and the function process, as an agent would call it. */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { tenantWithKey } from "../support/fixtures.ts";
import { callTool, initialize, listTools, post, toolNames } from "../support/mcp_client.ts";
import { functionTtlMs, stack } from "../support/stack.ts";

const mcpUrl = stack.info.mcpUrl;

Deno.test("a key sees exactly its tenant's tools, and can call them", async () => {
  const a = await tenantWithKey(["tenant_info", "echo"]);
  const b = await tenantWithKey(["tenant_info"]);

  deepStrictEqual(toolNames(await post(mcpUrl, listTools(), { key: a.key })), [
    "echo",
    "tenant_info",
  ]);
  deepStrictEqual(toolNames(await post(mcpUrl, listTools(), { key: b.key })), ["tenant_info"]);

  const echoed = await post(mcpUrl, callTool("echo", { text: "hello" }), { key: a.key });
  equal(echoed.status, 200);
  deepStrictEqual(echoed.body.result.content, [{ type: "text", text: "hello" }]);

  const info = await post(mcpUrl, callTool("tenant_info"), { key: b.key });
  deepStrictEqual(info.body.result.structuredContent, {
    tenant: { slug: b.slug, name: `Tenant ${b.slug}` },
    enabled_tools: ["tenant_info"],
  });

  // Not enabled for b: neither listed nor callable.
  const denied = await post(mcpUrl, callTool("echo", { text: "x" }), { key: b.key });
  ok(denied.body.error, `expected a JSON-RPC error, got ${denied.text}`);
  equal(denied.body.result, undefined);
});

Deno.test("a tenant with no tools enabled gets an empty list and can call nothing", async () => {
  const none = await tenantWithKey([]);
  deepStrictEqual(toolNames(await post(mcpUrl, listTools(), { key: none.key })), []);
  const denied = await post(mcpUrl, callTool("tenant_info"), { key: none.key });
  ok(denied.body.error);
});

Deno.test("a catalog tool this deployment has no code for is left out, the rest still work", async () => {
  await stack.psql(
    `insert into public.tool_families (family, description)
     values ('newer_release', 'A family this code predates.') on conflict do nothing;
     insert into public.tool_catalog (name, family, description)
     values ('from_a_newer_release', 'newer_release', 'Listed in the database, absent from this code.')
     on conflict (name) do nothing`,
  );
  const t = await tenantWithKey(["echo", "from_a_newer_release"]);
  deepStrictEqual(toolNames(await post(mcpUrl, listTools(), { key: t.key })), ["echo"]);
  const call = await post(mcpUrl, callTool("from_a_newer_release"), { key: t.key });
  ok(call.body.error || call.body.result?.isError, call.text);
});

Deno.test("initialize, tools/list and tools/call work as three separate requests", async () => {
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const init = await post(mcpUrl, initialize(), { key: t.key });
  equal(init.status, 200);
  equal(init.body.result.serverInfo.name, "mcp-tools-server");
  ok(init.body.result.capabilities.tools, "initialize advertises tools");
  equal(init.headers.get("mcp-session-id"), null, "no session is issued");

  const headers = { "mcp-protocol-version": init.body.result.protocolVersion };
  deepStrictEqual(toolNames(await post(mcpUrl, listTools(), { key: t.key, headers })), [
    "echo",
    "tenant_info",
  ]);
  const called = await post(mcpUrl, callTool("echo", { text: "three" }), { key: t.key, headers });
  equal(called.body.result.content[0].text, "three");
});

Deno.test("the three requests may each land on a freshly started function process", async () => {
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const processes = await Promise.all([1, 2, 3].map(() => stack.startFunction()));
  try {
    const [p1, p2, p3] = processes.map((p) => `${p.url}/mcp-tools-server/mcp`);
    const init = await post(p1, initialize(), { key: t.key });
    equal(init.status, 200);
    const headers = { "mcp-protocol-version": init.body.result.protocolVersion };
    // A fresh process has never seen `initialize`; it must still serve the tenant's tools.
    deepStrictEqual(toolNames(await post(p2, listTools(), { key: t.key, headers })), [
      "echo",
      "tenant_info",
    ]);
    const called = await post(p3, callTool("tenant_info"), { key: t.key, headers });
    equal(called.body.result.structuredContent.tenant.slug, t.slug);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
});

Deno.test("health answers without a key", async () => {
  const res = await fetch(`${stack.info.supabaseUrl}/functions/v1/mcp-tools-server/health`);
  equal(res.status, 200);
  equal((await res.json()).status, "ok");
});

Deno.test("metrics need the metrics token and count server builds per process", async () => {
  const url = `${stack.info.supabaseUrl}/functions/v1/mcp-tools-server/metrics`;
  const hidden = await fetch(url);
  equal(hidden.status, 404);
  await hidden.body?.cancel();
  const wrong = await fetch(url, { headers: { authorization: "Bearer nope" } });
  equal(wrong.status, 404);
  await wrong.body?.cancel();

  const metrics = async () =>
    await (await fetch(url, { headers: { authorization: `Bearer ${stack.info.metricsToken}` } }))
      .json();
  // A tool set no other test uses, so this process builds its server exactly once here.
  const t = await tenantWithKey(["echo"]);
  const before = await metrics();
  const started = performance.now();
  for (let i = 0; i < 5; i++) {
    equal((await post(mcpUrl, callTool("echo", { text: `${i}` }), { key: t.key })).status, 200);
  }
  const windows = 1 + Math.floor((performance.now() - started) / functionTtlMs());
  const after = await metrics();
  ok(after.requests - before.requests >= 5);
  ok(after.serverBuilds - before.serverBuilds <= 1, "one build at most for one tool set");
  const lookups = after.storeLookups - before.storeLookups;
  ok(lookups >= 1 && lookups <= windows, `${lookups} store lookups in ${windows} TTL window(s)`);
});
