/**
 * What the protocol front costs per request, measured in process (no network, no database: the
 * key resolves from memory, as a warm key-cache hit does). Not part of the test suite.
 *
 *   deno run -A bench/front_overhead.ts [iterations]
 *
 *   mcp-lite alone        a bare mcp-lite server with the same echo tool, JSON
 *   cached server         the function's server for the tool set, called as the front calls it
 *   app: GET → 405        routing, CORS, origin check and authentication, then a refusal
 *   app: 2025 tools/call  the whole path for a handshake-era client
 *   app: 2026 tools/call  the whole path with _meta and header validation, result decoration
 *   app: 2026 tools/list  the same for a listing (caching hints, serverInfo)
 */
import { ALL_FAMILIES as FAMILIES } from "../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { McpServer, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import { composeApp } from "../supabase/functions/mcp-tools-server/compose.ts";
import { withChecksum } from "../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { loadConfig } from "../supabase/functions/mcp-tools-server/config.ts";
import { silentLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import { serverBuilder } from "../supabase/functions/mcp-tools-server/mcp/mcp_lite_server.ts";
import {
  parseMessage,
  type RpcRequest,
} from "../supabase/functions/mcp-tools-server/mcp/protocol/jsonrpc.ts";
import { RequestScope } from "../supabase/functions/mcp-tools-server/mcp/scope.ts";
import { offlineServices } from "./offline_services.ts";
import { BENCH_KEY_RECORD, BENCH_TENANT, BUILTIN_ROWS } from "./memory_tenant.ts";
import { ToolCatalog } from "../supabase/functions/mcp-tools-server/tools/catalog.ts";

const iterations = Number(Deno.args[0] ?? 20_000);
const base = `http://bench.local/mcp-tools-server/mcp`;
const key = await withChecksum(`mcpk_${"a1b2c3d4e5f6"}_${"0".repeat(64)}`);
const rows = BUILTIN_ROWS;
const tenant = BENCH_TENANT;
const record = BENCH_KEY_RECORD;
const services = offlineServices();
const { app } = composeApp(loadConfig(() => undefined), {
  store: { resolveKey: () => Promise.resolve(record) },
  services,
  log: silentLogger,
});

const call = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "hello" } },
  });
const meta = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
};
const modernCall = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "hello" }, _meta: meta },
  });
const modernList = (id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list", params: { _meta: meta } });

// What a JSON client sends; Content-Length as every HTTP/1.1 client with a known body sends it.
const json = { "content-type": "application/json", accept: "application/json" };
const auth = { ...json, authorization: `Bearer ${key}` };
const modernHeaders = (method: string, name?: string) => ({
  ...auth,
  "mcp-protocol-version": "2026-07-28",
  "mcp-method": method,
  ...(name ? { "mcp-name": name } : {}),
});

const post = (headers: Record<string, string>, body: string) =>
  new Request(base, {
    method: "POST",
    headers: { ...headers, "content-length": String(new TextEncoder().encode(body).length) },
    body,
  });

// mcp-lite alone, the echo tool registered the pre-front way (zod validated by mcp-lite).
const lite = new McpServer({
  name: "bench",
  version: "1",
  schemaAdapter: (s) => ({ ...z.toJSONSchema(s as z.ZodType) }),
});
lite.tool("echo", {
  inputSchema: z.object({ text: z.string() }),
  handler: ({ text }) => ({ content: [{ type: "text", text }] }),
});
const liteHandler = new StreamableHttpTransport().bind(lite);

// The function's own server for the tool set, dispatched as the front does.
const { toolSet } = new ToolCatalog(FAMILIES).toolSet(rows);
const server = serverBuilder({
  services,
  log: silentLogger,
  serverInfo: { name: "bench", version: "1" },
})(toolSet);
const caller = { label: "mcpk_a1b2c3", tenant, toolSet };
const scope = new RequestScope(
  caller,
  "legacy",
  undefined,
  null,
  { notify: () => {}, signal: new AbortController().signal },
  (_method, result) => result,
);

const variants: Array<[string, (i: number) => Promise<Response>]> = [
  ["mcp-lite alone", (i) =>
    liteHandler(
      post({ "content-type": "application/json", accept: "application/json" }, call(i)),
    )],
  [
    "cached server",
    (i) =>
      server.dispatch(parseMessage(call(i)) as RpcRequest, scope).then((text) =>
        new Response(text)
      ),
  ],
  ["app: GET → 405", () => Promise.resolve(app.fetch(new Request(base, { headers: auth })))],
  ["app: 2025 tools/call", (i) =>
    Promise.resolve(
      app.fetch(post(auth, call(i))),
    )],
  ["app: 2026 tools/call", (i) =>
    Promise.resolve(
      app.fetch(
        post(modernHeaders("tools/call", "echo"), modernCall(i)),
      ),
    )],
  ["app: 2026 tools/list", (i) =>
    Promise.resolve(
      app.fetch(
        post(modernHeaders("tools/list"), modernList(i)),
      ),
    )],
];

async function measure(run: (i: number) => Promise<Response>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const res = await run(i);
    await res.arrayBuffer();
  }
  return ((performance.now() - started) * 1000) / iterations;
}

// Each variant must do the real work, not fail fast.
for (const [name, run] of variants) {
  const res = await run(0);
  const text = await res.text();
  const expected = name.includes("405") ? 405 : 200;
  if (res.status !== expected || (expected === 200 && !/"(hello|tools)"/.test(text))) {
    throw new Error(`${name}: unexpected answer ${res.status} ${text}`);
  }
}
for (const [, run] of variants) await measure(run); // warm-up: JIT, caches, first server build
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, run] of variants) (rounds[name] ??= []).push(await measure(run));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`µs per request, median of 5 rounds × ${iterations} (Deno ${Deno.version.deno})`);
for (const [name] of variants) console.log(`${name.padEnd(24)} ${median(rounds[name]).toFixed(1)}`);
