/**
 * Heap and build time of one cached server, measured in isolation: builds `n` servers for the
 * bench tool set with the function's own server builder and keeps them alive. Prints JSON.
 *
 *   deno run --v8-flags=--expose-gc bench/memory_probe.ts [n]
 */
import { serverBuilder } from "../supabase/functions/mcp-tools-server/mcp/mcp_lite_server.ts";
import { silentLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import { benchCatalog, benchRows } from "./catalog.ts";
import { offlineServices } from "./offline_services.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const heap = () => {
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
};

const n = Number(Deno.args[0] ?? 100);
const catalog = benchCatalog();
const { toolSet } = catalog.toolSet(benchRows());
const deps = {
  services: offlineServices(),
  log: silentLogger,
  serverInfo: { name: "bench", version: "1" },
};
const build = serverBuilder(deps);
// The first build and listing pay for what every server shares (definitions, JSON Schemas).
const first = build(toolSet);
for (const name of toolSet.names) first.tool(name)?.mirroredParams;

const before = heap();
const kept = [];
const started = performance.now();
for (let i = 0; i < n; i++) kept.push(build(toolSet));
const buildMs = (performance.now() - started) / n;
const after = heap();
console.log(JSON.stringify({
  servers: kept.length,
  tools: toolSet.names.length,
  heapPerServerBytes: Math.round((after - before) / n),
  buildMs,
}));
