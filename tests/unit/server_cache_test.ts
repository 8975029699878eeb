/**
 * One server per tool set, shared by tenants with the same set, and tenant identity carried per
 * request. The real app runs in this process (so its counters are readable) over an in-memory
 * tenant store.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { z } from "zod";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import { callTool, initialize, listTools, post, rpc, toolNames } from "../support/mcp_client.ts";

const tenants = new MemoryTenants();
const tenantWithKey = (tools: string[]) => tenants.add(tools);

Deno.test("repeated requests for one tenant build one server", async () => {
  const app = unitApp(tenants);
  const t = await tenantWithKey(["echo", "tenant_info"]);
  await post(app, initialize(), { key: t.key });
  for (let i = 0; i < 10; i++) {
    deepStrictEqual(toolNames(await post(app, listTools(), { key: t.key })), [
      "echo",
      "tenant_info",
    ]);
    equal((await post(app, callTool("tenant_info"), { key: t.key })).status, 200);
  }
  equal(app.metrics.serverBuilds, 1);
  equal(app.metrics.serverCacheHits, 20);
  equal(app.metrics.storeLookups, 1, "the key was looked up once, then served from the cache");
});

Deno.test("different tool sets get different servers", async () => {
  const app = unitApp(tenants);
  const a = await tenantWithKey(["echo"]);
  const b = await tenantWithKey(["tenant_info"]);
  const c = await tenantWithKey(["echo", "tenant_info"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: a.key })), ["echo"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: b.key })), ["tenant_info"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: c.key })), ["echo", "tenant_info"]);
  equal(app.metrics.serverBuilds, 3);
});

Deno.test("tenants with the same tools share one server, and each call sees its own tenant", async () => {
  const app = unitApp(tenants);
  // Same set, enabled in a different order and with a duplicate: still one fingerprint.
  const a = await tenantWithKey(["tenant_info", "echo"]);
  const b = await tenantWithKey(["echo", "tenant_info", "echo"]);

  const calls = Array.from({ length: 40 }, (_, i) => {
    const t = i % 2 === 0 ? a : b;
    return post(app, callTool("tenant_info"), { key: t.key, accept: i % 4 < 2 ? "sse" : "json" })
      .then((reply) => ({
        expected: t.slug,
        got: reply.body.result.structuredContent.tenant.slug,
      }));
  });
  const results = await Promise.all(calls);
  for (const { expected, got } of results) equal(got, expected);
  equal(app.metrics.serverBuilds, 1);
});

/** Streams progress naming its tenant, yielding between steps so concurrent calls interleave. */
const chatty = defineTool({
  name: "chatty",
  family: "test",
  description: "Reports three progress steps, then the tenant slug.",
  input: z.object({}),
  run: async (_args, { tenant, progress }) => {
    for (let step = 1; step <= 3; step++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      await progress({ progress: step, total: 3, message: tenant.slug });
    }
    return { content: [{ type: "text", text: tenant.slug }] };
  },
});

Deno.test("a client-sent Mcp-Session-Id belonging to another caller changes nothing", async () => {
  const families = [builtinTools, [chatty]];
  const withChatty = new MemoryTenants(families);
  const app = unitApp(withChatty, { families });
  const a = await withChatty.add(["chatty"]);
  const b = await withChatty.add(["chatty"]);

  const init = await post(app, initialize(), { key: a.key });
  equal(init.status, 200);
  equal(init.headers.get("mcp-session-id"), null, "the server never issues a session id");

  // Both send the same session id, JSON-RPC id and progress token, concurrently, over SSE: the
  // case where a session-keyed stream table would deliver one tenant's messages to the other.
  const session = { "mcp-session-id": "shared-session-0001" };
  const call = rpc(
    "tools/call",
    { name: "chatty", arguments: {}, _meta: { progressToken: "p" } },
    7,
  );
  const replies = await Promise.all(
    Array.from({ length: 20 }, (_, i) => {
      const t = i % 2 === 0 ? a : b;
      return post(app, call, { key: t.key, headers: session, accept: "sse" })
        .then((reply) => ({ t, reply }));
    }),
  );
  for (const { t, reply } of replies) {
    equal(reply.status, 200);
    equal(reply.headers.get("mcp-session-id"), null);
    const progress = reply.messages.filter((m) => m.method === "notifications/progress");
    deepStrictEqual(progress.map((m) => m.params.message), [t.slug, t.slug, t.slug]);
    equal(reply.body.id, 7);
    equal(reply.body.result.content[0].text, t.slug);
  }

  // And a session id alone is no credential.
  const anonymous = await post(app, listTools(), { headers: session });
  equal(anonymous.status, 401);
});
