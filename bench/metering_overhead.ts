/**
 * What the request log line and usage events cost per warm tools/call, in process (no network;
 * the key resolves from memory). Three apps composed alike — without metering, with the log line
 * only, with log and usage events — interleaved over rounds. Log lines go to stdout: run with stdout to /dev/null or a file, as on Supabase.
 * Not part of the test suite.
 *
 *   deno run -A bench/metering_overhead.ts [iterations] > /dev/null
 */
import { withChecksum } from "../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { composeApp } from "../supabase/functions/mcp-tools-server/compose.ts";
import { loadConfig } from "../supabase/functions/mcp-tools-server/config.ts";
import { consoleLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import type { KeyRecord } from "../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import { offlineServices } from "./offline_services.ts";

const iterations = Number(Deno.args[0] ?? 20_000);
const base = "http://bench.local/mcp-tools-server/mcp";
const key = await withChecksum(`mcpk_a1b2c3d4e5f6_${"0".repeat(64)}`);
const record = {
  keyId: "a1b2c3d4e5f6",
  keyPrefix: "mcpk_a1b2c3d4e5f6",
  expiresAt: null,
  revokedAt: null,
  tenant: {
    id: "00000000-0000-4000-8000-000000000001",
    slug: "bench",
    name: "Bench",
    status: "active",
    config: {},
    tools: [{ name: "echo", family: "builtin", version: 1, description: "echo", definition: null }],
  },
} as KeyRecord;

// Usage batches go nowhere (the write fails at once and is counted as dropped): what is measured
// is the function's own share, queueing and serialising included, not the database's.
const config = loadConfig(() => undefined, {
  usageFlushRetries: 0,
  supabase: { url: "http://127.0.0.1:9", key: "none" },
});
// Request lines are printed as in production; the expected write failures are not.
const log = { info: consoleLogger.info, error: () => {} };
const compose = (metering: boolean, usageBatchSize = config.usageBatchSize) =>
  composeApp({ ...config, usageBatchSize }, {
    store: { resolveKey: () => Promise.resolve(record) },
    services: offlineServices(),
    metering,
    log,
  });
const apps = { unmetered: compose(false), logOnly: compose(true, 0), metered: compose(true) };
type Name = keyof typeof apps;
const NAMES = Object.keys(apps) as Name[];
const headers = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  authorization: `Bearer ${key}`,
};
const body = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "hello" } },
  });

async function measure(name: Name): Promise<number> {
  const { app } = apps[name];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const res = await app.fetch(new Request(base, { method: "POST", headers, body: body(i) }));
    await res.arrayBuffer();
  }
  return ((performance.now() - started) * 1000) / iterations;
}

for (const name of NAMES) await measure(name); // warm-up
const rounds = { unmetered: [], logOnly: [], metered: [] } as Record<Name, number[]>;
for (let round = 0; round < 9; round++) {
  // Rotated order, so drift falls on every variant alike.
  for (let i = 0; i < NAMES.length; i++) {
    const name = NAMES[(i + round) % NAMES.length];
    rounds[name].push(await measure(name));
  }
}
await apps.metered.background.settled();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const report = (label: string, name: Name) => {
  const ratios = rounds[name].map((m, i) => m / rounds.unmetered[i]).sort((a, b) => a - b);
  console.error(
    `${label.padEnd(22)} ${median(rounds[name]).toFixed(1).padStart(7)} µs  × unmetered, per ` +
      `round: median ${median(ratios).toFixed(3)} (range ${ratios[0].toFixed(3)}–${
        ratios.at(-1)!.toFixed(3)
      })`,
  );
};
console.error(`warm tools/call in process, 9 rounds × ${iterations} (Deno ${Deno.version.deno})`);
console.error(`${"unmetered".padEnd(22)} ${median(rounds.unmetered).toFixed(1).padStart(7)} µs`);
report("request log only", "logOnly");
report("log + usage events", "metered");
