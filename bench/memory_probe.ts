/**
 * Heap and build time of one cached server, measured in isolation: builds servers for `n`
 * distinct subsets of the bench tools with the function's own server builder and keeps them
 * alive. Prints JSON.
 *
 *   deno run --v8-flags=--expose-gc bench/memory_probe.ts [n]
 */
import { serverBuilder } from "../supabase/functions/mcp-tools-server/mcp/mcp_lite_server.ts";
import { silentLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import { benchCatalog, benchRows } from "./catalog.ts";
import { offlineServices } from "./offline_services.ts";
import { distinctToolSets } from "./setup.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const heap = () => {
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
};

const n = Number(Deno.args[0] ?? 1000);
const catalog = benchCatalog();
const rows = benchRows();
const deps = {
  services: offlineServices(),
  log: silentLogger,
  serverInfo: { name: "bench", version: "1" },
};
const build = serverBuilder(deps);
// The first build and listing pay for what every server shares (definitions, JSON Schemas).
const all = catalog.toolSet(rows).toolSet;
const first = build(all);
for (const name of all.names) first.tool(name)?.mirroredParams;

// Distinct tool sets, as distinct tenants have them: each costs its key-cache entry this much.
const start = heap();
const toolSets = distinctToolSets(rows.map((r) => r.name), n).map((names) =>
  catalog.toolSet(rows.filter((r) => names.includes(r.name))).toolSet
);
const before = heap();
const kept = [];
const started = performance.now();
for (const toolSet of toolSets) kept.push(build(toolSet));
const buildMs = (performance.now() - started) / n;
const after = heap();
console.log(JSON.stringify({
  servers: kept.length,
  tools: all.names.length,
  heapPerToolSetBytes: Math.round((before - start) / n),
  heapPerServerBytes: Math.round((after - before) / n),
  buildMs,
}));
