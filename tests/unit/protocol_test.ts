/**
 * The protocol front, request by request: era detection, the 2026-07-28 rules (headers, _meta,
 * discover, result fields, error statuses), the handshake era served without sessions, and what
 * holds in both (origins, CORS, tool errors, streaming only when needed). The real app, composed
 * in this process over an in-memory tenant store.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { z } from "zod";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import {
  callTool,
  initialize,
  listTools,
  post,
  rpc,
  type RpcReply,
  type Target,
} from "../support/mcp_client.ts";

const MODERN = "2026-07-28";
const TOOLS = ["echo", "tenant_info", "test_logging_tool", "test_missing_capability"];
const TOOLS_TTL_MS = 20_000;
const tenants = new MemoryTenants();
const inProcessApp = (options: Parameters<typeof unitApp>[1] = {}) => unitApp(tenants, options);
const app = inProcessApp({ config: { tenantCacheTtlMs: TOOLS_TTL_MS } });
const tenant = await tenants.add([...TOOLS, "test_mirrored_header", "test_tool_with_progress"]);

const meta = (extra: Record<string, unknown> = {}) => ({
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "tests", version: "1.0.0" },
  ...extra,
});

/** A 2026-07-28 request with its mirrored headers; `headers` override or add to them. */
function modern(
  method: string,
  params: Record<string, unknown> = {},
  options: { headers?: Record<string, string>; key?: string; accept?: "json" | "sse" } = {},
  target: Target = app,
): Promise<RpcReply> {
  const standard: Record<string, string> = {
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
  };
  if (typeof params.name === "string") standard["mcp-name"] = params.name;
  return post(
    target,
    rpc(method, { ...params, _meta: meta(params._meta as Record<string, unknown> | undefined) }),
    {
      key: options.key ?? tenant.key,
      accept: options.accept,
      headers: { ...standard, ...options.headers },
    },
  );
}

function assertRpcError(reply: RpcReply, status: number, code: number) {
  equal(reply.status, status, reply.text);
  equal(reply.body?.error?.code, code, reply.text);
  ok(!/\bstack\b|\n\s+at |\.ts:\d+/.test(reply.text), `internal detail leaked: ${reply.text}`);
}

const b64 = (text: string) =>
  `=?base64?${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}?=`;

// --- 2026-07-28 -----------------------------------------------------------------------------

Deno.test("2026: server/discover names versions, capabilities and the server", async () => {
  const reply = await modern("server/discover");
  equal(reply.status, 200);
  const result = reply.body.result;
  equal(result.resultType, "complete");
  deepStrictEqual(result.supportedVersions, [
    MODERN,
    "2025-11-25",
    "2025-06-18",
    "2025-03-26",
    "2024-11-05",
  ]);
  deepStrictEqual(result.capabilities, { tools: {}, logging: {} });
  equal(result._meta["io.modelcontextprotocol/serverInfo"].name, "mcp-tools-server");
  equal(result.cacheScope, "public");
  ok(Number.isInteger(result.ttlMs) && result.ttlMs >= 0);
});

Deno.test("2026: results carry resultType and serverInfo; tools/list is private to the key", async () => {
  const list = await modern("tools/list");
  equal(list.status, 200);
  equal(list.body.result.resultType, "complete");
  equal(list.body.result.cacheScope, "private");
  equal(list.body.result.ttlMs, TOOLS_TTL_MS, "as long as the server caches the key");
  equal(list.body.result._meta["io.modelcontextprotocol/serverInfo"].name, "mcp-tools-server");
  deepStrictEqual(
    list.body.result.tools.map((tool: { name: string }) => tool.name),
    [...TOOLS, "test_mirrored_header", "test_tool_with_progress"].sort(),
  );

  const call = await modern("tools/call", { name: "echo", arguments: { text: "hi" } });
  equal(call.body.result.resultType, "complete");
  deepStrictEqual(call.body.result.content, [{ type: "text", text: "hi" }]);
  ok(call.body.result._meta["io.modelcontextprotocol/serverInfo"]);
});

Deno.test("2026: required _meta fields missing → 400 / -32602", async () => {
  for (const params of [{}, { _meta: {} }, { _meta: { [Object.keys(meta())[0]]: MODERN } }]) {
    const reply = await post(app, rpc("tools/list", params), {
      key: tenant.key,
      headers: { "mcp-protocol-version": MODERN, "mcp-method": "tools/list" },
    });
    assertRpcError(reply, 400, -32602);
  }
});

Deno.test("2026: header disagreements → 400 / -32020", async () => {
  const call = { name: "echo", arguments: { text: "x" } };
  // Protocol version header differs from _meta, or is missing.
  assertRpcError(
    await modern("tools/list", {}, { headers: { "mcp-protocol-version": "2025-11-25" } }),
    400,
    -32020,
  );
  // Mcp-Method missing, different, or differently cased.
  assertRpcError(
    await post(app, rpc("tools/list", { _meta: meta() }), {
      key: tenant.key,
      headers: { "mcp-protocol-version": MODERN },
    }),
    400,
    -32020,
  );
  assertRpcError(
    await modern("tools/list", {}, { headers: { "mcp-method": "TOOLS/LIST" } }),
    400,
    -32020,
  );
  // Mcp-Name missing, different, or invalid base64.
  assertRpcError(
    await post(app, rpc("tools/call", { ...call, _meta: meta() }), {
      key: tenant.key,
      headers: { "mcp-protocol-version": MODERN, "mcp-method": "tools/call" },
    }),
    400,
    -32020,
  );
  assertRpcError(
    await modern("tools/call", call, { headers: { "mcp-name": "tenant_info" } }),
    400,
    -32020,
  );
  assertRpcError(
    await modern("tools/call", call, { headers: { "mcp-name": "=?base64?%%%?=" } }),
    400,
    -32020,
  );
});

Deno.test("2026: Mcp-Name may be base64-encoded and padded with whitespace", async () => {
  const call = { name: "echo", arguments: { text: "x" } };
  const encoded = await modern("tools/call", call, { headers: { "mcp-name": b64("echo") } });
  equal(encoded.status, 200, encoded.text);
  equal(encoded.body.result.content[0].text, "x");
  const padded = await modern("tools/call", call, { headers: { "mcp-name": "  echo  " } });
  equal(padded.status, 200, padded.text);
});

Deno.test("2026: arguments marked x-mcp-header must match their Mcp-Param-* header", async () => {
  const call = (region: string) => ({ name: "test_mirrored_header", arguments: { region } });
  const matching = await modern("tools/call", call("eu-west"), {
    headers: { "mcp-param-region": "eu-west" },
  });
  equal(matching.status, 200, matching.text);
  equal(matching.body.result.content[0].text, "eu-west");
  const encoded = await modern("tools/call", call("Zürich "), {
    headers: { "Mcp-Param-Region": b64("Zürich ") },
  });
  equal(encoded.body.result.content[0].text, "Zürich ");
  assertRpcError(await modern("tools/call", call("eu-west")), 400, -32020);
  assertRpcError(
    await modern("tools/call", call("eu-west"), { headers: { "mcp-param-region": "us-east" } }),
    400,
    -32020,
  );
  assertRpcError(
    await modern("tools/call", call("Hello"), {
      headers: { "mcp-param-region": "=?base64?SGVsbG8?=" },
    }),
    400,
    -32020,
  );
  // The handshake era has no mirrored headers.
  const legacy = await post(app, callTool("test_mirrored_header", { region: "x" }), {
    key: tenant.key,
  });
  equal(legacy.body.result.content[0].text, "x");
});

Deno.test("2026: an unsupported version → 400 / -32022 listing the supported ones", async () => {
  const reply = await modern("tools/list", {
    _meta: meta({ [Object.keys(meta())[0]]: "2099-01-01" }),
  }, {
    headers: { "mcp-protocol-version": "2099-01-01" },
  });
  assertRpcError(reply, 400, -32022);
  deepStrictEqual(reply.body.error.data, {
    supported: [MODERN, "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
    requested: "2099-01-01",
  });
  equal(typeof reply.body.id, "number", "the request id is kept");
});

Deno.test("2026: methods not implemented (initialize and ping included) → 404 / -32601", async () => {
  for (const method of ["initialize", "ping", "logging/setLevel", "resources/list", "nope/nope"]) {
    const reply = await modern(method);
    assertRpcError(reply, 404, -32601);
    equal(typeof reply.body.id, "number");
  }
});

Deno.test("2026: a tool needing an undeclared client capability → 400 / -32021", async () => {
  const refused = await modern("tools/call", { name: "test_missing_capability", arguments: {} });
  assertRpcError(refused, 400, -32021);
  deepStrictEqual(refused.body.error.data, { requiredCapabilities: { sampling: {} } });
  const allowed = await modern("tools/call", {
    name: "test_missing_capability",
    arguments: {},
    _meta: { "io.modelcontextprotocol/clientCapabilities": { sampling: {} } },
  });
  equal(allowed.status, 200, allowed.text);
  equal(allowed.body.result.content[0].text, "Success");
});

Deno.test("2026: log messages only at the requested level, and a bad level is refused", async () => {
  const call = { name: "test_logging_tool", arguments: {} };
  const silent = await modern("tools/call", call);
  equal(silent.headers.get("content-type"), "application/json", "no logs: plain JSON");
  const logged = await modern("tools/call", {
    ...call,
    _meta: { "io.modelcontextprotocol/logLevel": "info" },
  });
  equal(logged.headers.get("content-type"), "text/event-stream");
  deepStrictEqual(logged.messages[0], {
    jsonrpc: "2.0",
    method: "notifications/message",
    params: {
      level: "info",
      logger: "test_logging_tool",
      data: "Diagnostic trace logging activated",
    },
  });
  equal(logged.body.result.content[0].text, "Logging evaluated");
  const quieter = await modern("tools/call", {
    ...call,
    _meta: { "io.modelcontextprotocol/logLevel": "error" },
  });
  equal(quieter.messages.length, 1, "info is below error: only the result");
  const bad = await modern("tools/call", {
    ...call,
    _meta: { "io.modelcontextprotocol/logLevel": "loud" },
  });
  assertRpcError(bad, 400, -32602);
});

Deno.test("2026: notifications are accepted with 202, client responses refused", async () => {
  const note = await post(app, { jsonrpc: "2.0", method: "notifications/cancelled", params: {} }, {
    key: tenant.key,
    headers: { "mcp-protocol-version": MODERN },
  });
  equal(note.status, 202);
  const response = await post(app, { jsonrpc: "2.0", id: 1, result: {} }, {
    key: tenant.key,
    headers: { "mcp-protocol-version": MODERN },
  });
  assertRpcError(response, 400, -32600);
});

// --- 2025 (handshake era) -----------------------------------------------------------------

Deno.test("legacy: initialize answers the client's own version, 2024-11-05 to 2025-11-25", async () => {
  for (const version of ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]) {
    const init = await post(app, initialize(version), { key: tenant.key });
    equal(init.status, 200);
    equal(init.body.result.protocolVersion, version);
    deepStrictEqual(init.body.result.capabilities, { tools: {}, logging: {} });
    equal(init.body.result.serverInfo.name, "mcp-tools-server");
    equal(init.headers.get("mcp-session-id"), null, "no session is issued");
    equal(init.body.result.resultType, undefined, "no 2026 fields on legacy results");
  }
  const newer = await post(app, initialize("2099-01-01"), { key: tenant.key });
  equal(newer.body.result.protocolVersion, "2025-11-25", "unknown: our newest legacy version");
});

Deno.test("legacy: 2024-11-05 and 2025-11-25 headers are accepted; an unknown legacy one is refused", async () => {
  for (const version of ["2025-11-25", "2024-11-05"]) {
    const headers = { "mcp-protocol-version": version };
    const list = await post(app, listTools(), { key: tenant.key, headers });
    equal(list.status, 200, list.text);
    equal(list.body.result.resultType, undefined);
    equal(list.body.result.ttlMs, undefined);
  }
  const old = await post(app, listTools(), {
    key: tenant.key,
    headers: { "mcp-protocol-version": "2024-10-07" },
  });
  assertRpcError(old, 400, -32022);
});

Deno.test("legacy: ping and logging/setLevel answer {}; unknown methods -32601", async () => {
  deepStrictEqual((await post(app, rpc("ping"), { key: tenant.key })).body.result, {});
  const level = await post(app, rpc("logging/setLevel", { level: "debug" }), { key: tenant.key });
  deepStrictEqual(level.body.result, {});
  const bad = await post(app, rpc("logging/setLevel", { level: "loud" }), { key: tenant.key });
  assertRpcError(bad, 200, -32602);
  assertRpcError(await post(app, rpc("resources/list"), { key: tenant.key }), 200, -32601);
});

Deno.test("legacy: a client-sent session id is ignored and none is ever returned", async () => {
  const reply = await post(app, listTools(), {
    key: tenant.key,
    headers: { "mcp-session-id": "made-up-session" },
  });
  equal(reply.status, 200);
  equal(reply.headers.get("mcp-session-id"), null);
});

// --- both eras ----------------------------------------------------------------------------

Deno.test("both: GET and DELETE → 405 (after authentication)", async () => {
  for (const method of ["GET", "DELETE"]) {
    const res = await app.fetch(app.url, {
      method,
      headers: { authorization: `Bearer ${tenant.key}`, accept: "text/event-stream" },
    });
    equal(res.status, 405);
    equal(res.headers.get("allow"), "POST, OPTIONS");
    equal((await res.json()).code, "METHOD_NOT_ALLOWED");
    const anonymous = await app.fetch(app.url, { method });
    equal(anonymous.status, 401);
    await anonymous.body?.cancel();
  }
});

Deno.test("both: authentication answers the same whatever the era", async () => {
  const legacy = await post(app, listTools(), {});
  const modernReply = await modern("tools/list", {}, { key: "" });
  equal(legacy.status, 401);
  equal(modernReply.status, 401);
  deepStrictEqual(JSON.parse(modernReply.text), JSON.parse(legacy.text));
});

Deno.test("both: unknown tool → -32602; bad arguments → isError naming the argument", async () => {
  const unknownLegacy = await post(app, callTool("no_such_tool", {}), { key: tenant.key });
  assertRpcError(unknownLegacy, 200, -32602);
  match(unknownLegacy.body.error.message, /no_such_tool/);
  assertRpcError(await modern("tools/call", { name: "no_such_tool", arguments: {} }), 200, -32602);

  const badLegacy = await post(app, callTool("echo", { text: 5 }), { key: tenant.key });
  equal(badLegacy.body.result.isError, true);
  match(badLegacy.body.result.content[0].text, /^Invalid arguments for tool "echo": text: /);
  const badModern = await modern("tools/call", { name: "echo", arguments: {} });
  equal(badModern.body.result.isError, true);
  equal(badModern.body.result.resultType, "complete");
  match(badModern.body.result.content[0].text, /text: /);
});

Deno.test("both: a tool without arguments works when the client omits them", async () => {
  const legacy = await post(app, callTool("tenant_info"), { key: tenant.key });
  equal(legacy.body.result.structuredContent.tenant.slug, tenant.slug);
  const modernReply = await modern("tools/call", { name: "tenant_info" });
  equal(modernReply.body.result.structuredContent.tenant.slug, tenant.slug);
});

Deno.test("both: JSON unless progress needs a stream, and progress reaches the caller", async () => {
  const plain = await post(app, callTool("echo", { text: "x" }), { key: tenant.key });
  equal(plain.headers.get("content-type"), "application/json", "SSE accepted but not needed");

  const progress = rpc("tools/call", {
    name: "test_tool_with_progress",
    arguments: {},
    _meta: { progressToken: "p-1" },
  });
  const streamed = await post(app, progress, { key: tenant.key });
  equal(streamed.headers.get("content-type"), "text/event-stream");
  deepStrictEqual(
    streamed.messages.filter((m) => m.method === "notifications/progress").map((m) => [
      m.params.progressToken,
      m.params.progress,
    ]),
    [["p-1", 0], ["p-1", 50], ["p-1", 100]],
  );
  equal(streamed.body.id, progress.id);

  const jsonOnly = await post(app, progress, { key: tenant.key, accept: "json" });
  equal(jsonOnly.headers.get("content-type"), "application/json", "JSON-only clients get JSON");
  equal(jsonOnly.messages.length, 1);

  const modernStream = await modern("tools/call", {
    name: "test_tool_with_progress",
    arguments: {},
    _meta: { progressToken: 9 },
  });
  equal(modernStream.messages.filter((m) => m.method === "notifications/progress").length, 3);
  equal(modernStream.body.result.resultType, "complete");
});

Deno.test("both: bad Origin → 403; none, localhost or listed origins pass", async () => {
  const evil = await post(app, listTools(), {
    key: tenant.key,
    headers: { origin: "https://evil.example.com" },
  });
  equal(evil.status, 403);
  equal(JSON.parse(evil.text).code, "ORIGIN_NOT_ALLOWED");
  for (const origin of [`http://localhost:6274`, `http://127.0.0.1:3000`, `http://[::1]:8080`]) {
    const ok_ = await post(app, listTools(), { key: tenant.key, headers: { origin } });
    equal(ok_.status, 200, `${origin}: ${ok_.text}`);
  }
  const listed = inProcessApp({ config: { allowedOrigins: ["https://app.example.com"] } });
  const fromApp = await post(listed, listTools(), {
    key: tenant.key,
    headers: { origin: "https://app.example.com" },
  });
  equal(fromApp.status, 200);
  const anyOrigin = inProcessApp({ config: { allowedOrigins: "*" } });
  equal(
    (await post(anyOrigin, listTools(), {
      key: tenant.key,
      headers: { origin: "https://evil.example.com" },
    })).status,
    200,
  );
});

Deno.test("both: with a host allow-list, other hosts → 403", async () => {
  const strict = inProcessApp({ config: { allowedHosts: ["mcp.example.com"] } });
  const wrong = await post(strict, listTools(), { key: tenant.key });
  equal(wrong.status, 403);
  equal(JSON.parse(wrong.text).code, "HOST_NOT_ALLOWED");
  const right = await post(strict, listTools(), {
    key: tenant.key,
    headers: { "x-forwarded-host": "mcp.example.com" },
  });
  equal(right.status, 200, right.text);
});

Deno.test("both: malformed bodies and batches are JSON-RPC errors without internals", async () => {
  assertRpcError(await post(app, "{not json", { key: tenant.key }), 400, -32700);
  assertRpcError(await post(app, [listTools()], { key: tenant.key }), 400, -32600);
  assertRpcError(
    await post(app, { jsonrpc: "2.0", id: null, method: "x" }, { key: tenant.key }),
    400,
    -32600,
  );
});

/** Reports progress, then waits until its caller cancels (or gives up after a while). */
let cancelled: Promise<boolean> = Promise.resolve(false);
const waitsForCancel = defineTool({
  name: "waits_for_cancel",
  family: "test",
  description: "Reports progress, then waits for the caller to close the stream.",
  input: z.object({}),
  run: async (_args, { progress, signal }) => {
    cancelled = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await progress({ progress: 1 });
    await cancelled;
    return { content: [{ type: "text", text: "done" }] };
  },
});

Deno.test("both: closing the response stream cancels the tool call", async () => {
  const families = [builtinTools, [waitsForCancel]];
  const withTool = new MemoryTenants(families);
  const t = await withTool.add(["waits_for_cancel"]);
  const local = unitApp(withTool, { families });
  const res = await local.fetch(local.url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${t.key}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify(
      rpc("tools/call", { name: "waits_for_cancel", arguments: {}, _meta: { progressToken: 1 } }),
    ),
  });
  equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  match(first, /notifications\/progress/);
  await reader.cancel();
  equal(await cancelled, true, "the tool saw the cancellation");
});
