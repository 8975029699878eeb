// `deno run -A bench/remote_tools.ts [--rounds N] [--requests N]`: what a remote MCP server
// costs a tenant, and what an OpenAPI import costs an admin. In-process app over an in-memory
// tenant store (no database on these paths), real local MCP servers built with both official
// SDKs. Every figure is a ratio to a baseline measured in the same round; median and range over
// the rounds. Not part of the test suite.

import { parseArgs } from "node:util";
import type {
  KeyRecord,
  TenantStore,
} from "../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import type { RemoteServer } from "../supabase/functions/mcp-tools-server/data/remote_servers.ts";
import { loadDocument } from "../scripts/lib/import_openapi.ts";
import { planImport } from "../scripts/lib/openapi_import.ts";
import { composedApp } from "../tests/support/fixtures.ts";
import { MemoryTenants } from "../tests/support/memory_tenants.ts";
import { callTool, listTools, post } from "../tests/support/mcp_client.ts";
import { DOCUMENTS } from "../tests/support/openapi_documents.ts";
import { type RemoteMcp, startRemoteMcp } from "../tests/support/remote_mcp.ts";
import { percentile, round, table } from "./stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, requests: { type: "string" } },
});
const ROUNDS = Number(values.rounds ?? 3);
const REQUESTS = Number(values.requests ?? 200);
const TTL_MS = 30_000;

/** MemoryTenants plus the remote servers each tenant attached. */
class WithRemotes implements TenantStore {
  readonly remotes = new Map<string, RemoteServer[]>();
  constructor(readonly inner: MemoryTenants) {}
  async resolveKey(keyHash: string): Promise<KeyRecord | null> {
    const record = await this.inner.resolveKey(keyHash);
    if (record) record.tenant.remoteServers = this.remotes.get(record.tenant.id) ?? [];
    return record;
  }
}

const modern = startRemoteMcp({ era: "modern" });
const legacy = startRemoteMcp({ era: "legacy" });
const tenants = new MemoryTenants();
const store = new WithRemotes(tenants);
const plain = await tenants.add(["echo"]);
const attached = await tenants.add(["echo"]);
const server = (prefix: string, url: string, id: string): RemoteServer => ({
  id,
  prefix,
  url,
  secret: null,
  allowedTools: null,
  version: "1",
});
store.remotes.set(attached.id, [
  server("new_", modern.url, "00000000-0000-4000-8000-000000000001"),
  server("old_", legacy.url, "00000000-0000-4000-8000-000000000002"),
]);
const app = composedApp({
  store,
  supabase: { url: "http://127.0.0.1:9", key: "bench-reaches-no-database" },
  config: {
    upstreamAllowHosts: [modern.hostPort, legacy.hostPort],
    remoteToolsTtlMs: TTL_MS,
    tenantCacheTtlMs: 3_600_000,
  },
});

/** Median latency (ms) of `requests` sequential runs of `once`. */
async function median(once: () => Promise<unknown>, requests = REQUESTS): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

const ok = async (key: string, payload: unknown) => {
  const reply = await post(app, payload, { key });
  if (reply.status !== 200 || reply.body.error || reply.body.result?.isError) {
    throw new Error(`unexpected answer: ${reply.text.slice(0, 300)}`);
  }
};

const RELAY_CALLS = 5;

/**
 * One streamed call of the remote `paced` tool: the time from its last progress step leaving the
 * server (same process, same clock) to that step reaching the caller's SSE stream.
 */
async function relayLag(prefix: string, upstream: RemoteMcp): Promise<number> {
  const tag = crypto.randomUUID();
  const res = await app.fetch(app.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${attached.key}`,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: `${prefix}paced`, arguments: { tag }, _meta: { progressToken: "bench" } },
    }),
  });
  const decoder = new TextDecoder();
  let text = "";
  let lastStepAt: number | undefined;
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk, { stream: true });
    if (lastStepAt === undefined && text.includes(`${tag} step 3`)) lastStepAt = performance.now();
  }
  const sentAt = upstream.pacedFinished.get(tag);
  if (lastStepAt === undefined || sentAt === undefined || !text.includes(`${tag} done`)) {
    throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
  }
  return lastStepAt - sentAt;
}

type Row = { id: string; what: string; baseline: string; values: number[]; ratios: number[] };
const rows = new Map<string, Row>();
const record = (id: string, what: string, baseline: string, ms: number, base: number) => {
  const row = rows.get(id) ?? { id, what, baseline, values: [], ratios: [] };
  row.values.push(ms);
  row.ratios.push(ms / base);
  rows.set(id, row);
};

for (let r = 0; r < ROUNDS; r++) {
  // Warm both paths once (servers built, remote lists cached).
  await ok(plain.key, listTools());
  await ok(attached.key, listTools());

  const list = await median(() => ok(plain.key, listTools()));
  const listRemote = await median(() => ok(attached.key, listTools()));
  // Each request after the TTL lists both remote servers again.
  const listRefresh = await median(() => {
    app.clock.advance(TTL_MS + 1);
    return ok(attached.key, listTools());
  }, Math.max(20, REQUESTS / 10));
  const call = await median(() => ok(plain.key, callTool("echo", { text: "hi" })));
  const callModern = await median(() => ok(attached.key, callTool("new_echo", { text: "hi" })));
  const callLegacy = await median(() => ok(attached.key, callTool("old_echo", { text: "hi" })));

  record("list", "tools/list, built-in tools only", "list", list, list);
  record("list-remote", "tools/list, + 2 remote servers (cached)", "list", listRemote, list);
  record("list-refresh", "tools/list, + 2 remote servers listed again", "list", listRefresh, list);
  record("call", "tools/call echo (built-in)", "call", call, call);
  record("call-modern", "tools/call via remote, 2026-07-28 server", "call", callModern, call);
  record("call-legacy", "tools/call via remote, handshake-era server", "call", callLegacy, call);

  // Live relay: how long a progress step takes from the remote server to the caller's stream,
  // against the same round's forwarded call (a fresh connection each).
  const relays = [
    { id: "modern", prefix: "new_", era: "2026-07-28", upstream: modern, base: callModern },
    { id: "legacy", prefix: "old_", era: "handshake-era", upstream: legacy, base: callLegacy },
  ];
  for (const { id, prefix, era, upstream, base } of relays) {
    const lags: number[] = [];
    for (let i = 0; i < RELAY_CALLS; i++) lags.push(await relayLag(prefix, upstream));
    const what = `progress step relayed live, ${era} server`;
    record(`relay-${id}`, what, `call-${id}`, percentile(lags, 50), base);
  }

  // The importer on GitHub's document: read + $ref resolution, then planning 1,223 operations.
  const read0 = performance.now();
  const doc = await loadDocument(DOCUMENTS.github);
  const read = performance.now() - read0;
  const plan0 = performance.now();
  planImport(doc);
  const plan = performance.now() - plan0;
  record("import-read", "GitHub document read + dereferenced", "import-read", read, read);
  record("import-plan", "GitHub document planned (1,223 operations)", "import-read", plan, read);
}

const spread = (xs: number[]) => `${round(Math.min(...xs))}–${round(Math.max(...xs))}`;
console.log(
  `remote tools and OpenAPI import, ${ROUNDS} round(s) × ${REQUESTS} requests (${Deno.version.deno})\n`,
);
console.log(table(
  ["id", "what", "median ms", "range ms", "× baseline", "ratio range", "baseline"],
  [...rows.values()].map((row) => [
    row.id,
    row.what,
    round(percentile(row.values, 50)),
    spread(row.values),
    round(percentile(row.ratios, 50)),
    spread(row.ratios),
    row.baseline,
  ]),
));

await modern.close();
await legacy.close();
