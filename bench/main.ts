// `deno task bench [--quick] [--rounds N] [--duration S] [--concurrency N] [--out FILE]`
//
// Starts its own throwaway stack (Postgres, PostgREST, gateway, the function) and the baseline
// servers on free ports, measures, prints tables and writes JSON (default
// bench/results/latest.json). Not part of the test suite.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { denoVersion, startExtraFunction } from "../scripts/lib/function.ts";
import { spawnChild } from "../scripts/lib/process.ts";
import { choosePorts } from "../scripts/lib/ports.ts";
import { waitForOk } from "../scripts/lib/wait.ts";
import { type Stack, startStack } from "../scripts/stack.ts";
import { BASELINES } from "./baselines.ts";
import { coldProcesses, newTenants } from "./cold.ts";
import { fingerprintsThroughCache, probeServerMemory } from "./memory.ts";
import { budget, machine, printReport, type Report } from "./report.ts";
import { roundTrips } from "./roundtrips.ts";
import { distinctToolSets, registerBenchFamily, tenantsWithKeys } from "./setup.ts";
import { checkVariant, measureThroughput, type Variant } from "./throughput.ts";
import { BENCH_TOOL_NAMES } from "./tools.ts";

const ROOT = join(import.meta.dirname!, "..");
const ENTRY = join(ROOT, "bench", "function_entry.ts");
const BASELINE_LABELS: Record<string, string> = {
  "lite-shared": "(b) bare mcp-lite, one server",
  "lite-rebuild": "(c) mcp-lite, rebuilt per request",
  "sdk-v2": "(d) SDK v2 createMcpHandler",
};

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      concurrency: { type: "string" },
      out: { type: "string" },
    },
  });
  const quick = values.quick;
  return {
    quick,
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    durationMs: Number(values.duration ?? (quick ? 1 : 3)) * 1000,
    warmupMs: quick ? 300 : 500,
    concurrency: Number(values.concurrency ?? 16),
    coldRuns: quick ? 5 : 20,
    fingerprints: 1000,
    out: values.out ?? join(ROOT, "bench", "results", quick ? "quick.json" : "latest.json"),
  };
}

const say = (line: string) => console.error(line);

async function startBaselines(stack: Stack): Promise<Variant[]> {
  const variants: Variant[] = [];
  for (const id of BASELINES) {
    const { port } = choosePorts({ port: undefined });
    const child = await spawnChild({
      name: id,
      cmd: Deno.execPath(),
      args: ["run", "-A", join(ROOT, "bench", "baselines.ts"), id, String(port)],
      cwd: ROOT,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      logPath: join(stack.runDir, "logs", `${id}.log`),
      pidDir: join(stack.runDir, "pids"),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForOk(`${url}/health`, { timeoutMs: 60_000, children: [child] });
    variants.push({ id, label: BASELINE_LABELS[id], url: `${url}/mcp` });
    if (id in GATEWAY_LABELS) variants.push(await behindGateway(stack, id, url));
  }
  return variants;
}

/** (b) and (c) behind a gateway of their own, so the ratios to (a) compare like with like. */
const GATEWAY_LABELS: Record<string, string> = {
  "lite-shared": "(b) bare mcp-lite via gateway",
  "lite-rebuild": "(c) rebuilt per request via gateway",
};

async function behindGateway(stack: Stack, id: string, baselineUrl: string): Promise<Variant> {
  const { port } = choosePorts({ port: undefined });
  const child = await spawnChild({
    name: `${id}-gateway`,
    cmd: Deno.execPath(),
    args: ["run", "-A", join(ROOT, "scripts", "gateway.ts")],
    cwd: ROOT,
    env: {
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
      POSTGREST_URL: stack.postgrestUrl,
      FUNCTION_URL: baselineUrl,
      GATEWAY_PORT: String(port),
    },
    logPath: join(stack.runDir, "logs", `${id}-gateway.log`),
    pidDir: join(stack.runDir, "pids"),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/health`, { timeoutMs: 60_000, children: [child] });
  return {
    id: `${id}-gw`,
    label: GATEWAY_LABELS[id],
    url: `${url}/functions/v1/mcp-tools-server/mcp`,
  };
}

async function main() {
  const opts = options();
  const started = performance.now();
  say("starting a throwaway stack…");
  const stack = await startStack({ functionEntry: ENTRY });
  try {
    await registerBenchFamily(stack);
    const [benchKey, builtinKey] = await tenantsWithKeys(stack, [
      BENCH_TOOL_NAMES,
      ["echo", "tenant_info"],
    ]);
    // Metering's cost: two more processes started alike, one with the request log, usage events
    // and limits (also called with a key whose tenant has limits: leases), one without them.
    const [limitedKey] = await tenantsWithKeys(stack, [BENCH_TOOL_NAMES]);
    const limitedKeyId = limitedKey.slice(5, 17);
    await stack.psql(`update public.tenants set requests_per_minute = 1000000000,
        calls_per_day = 1000000000
      where id = (select tenant_id from public.api_keys where key_id = '${limitedKeyId}')`);
    const [metered, unmetered] = await Promise.all([
      stack.startFunction({}, ENTRY),
      stack.startFunction({ BENCH_METERING: "off" }, ENTRY),
    ]);
    const baselines = await startBaselines(stack);
    // The stack runs the function on the edge runtime's Deno; the same entry on the Deno running
    // this bench is measured beside it.
    const runtime = await denoVersion(stack.functionDeno);
    const current = await denoVersion(Deno.execPath());
    const onCurrent = await startExtraFunction({
      root: stack.root,
      entry: ENTRY,
      deno: Deno.execPath(),
      env: stack.functionEnv,
      logDir: join(stack.runDir, "logs"),
      pidDir: join(stack.runDir, "pids"),
    });
    const variants: Variant[] = [
      {
        id: "gateway",
        label: `(a) function via gateway (${runtime})`,
        url: stack.mcpUrl,
        key: benchKey,
      },
      {
        id: "direct",
        label: `(a') function, no gateway (${runtime})`,
        url: `${stack.function.url}/mcp-tools-server/mcp`,
        key: benchKey,
      },
      {
        id: "direct-current",
        label: `(a') function, no gateway (${current})`,
        url: `${onCurrent.url}/mcp-tools-server/mcp`,
        key: benchKey,
      },
      {
        id: "metered",
        label: "(m) metered: log + usage events",
        url: `${metered.url}/mcp-tools-server/mcp`,
        key: benchKey,
      },
      {
        id: "metered-limited",
        label: "(m) + limits on the tenant",
        url: `${metered.url}/mcp-tools-server/mcp`,
        key: limitedKey,
      },
      {
        id: "unmetered",
        label: "(u) no log, usage or limits",
        url: `${unmetered.url}/mcp-tools-server/mcp`,
        key: benchKey,
      },
      ...baselines,
    ];
    for (const v of variants) await checkVariant(v);

    say("throughput and latency…");
    const throughput = await measureThroughput(variants, {
      rounds: opts.rounds,
      durationMs: opts.durationMs,
      warmupMs: opts.warmupMs,
      concurrency: opts.concurrency,
      reference: "gateway",
      progress: say,
    });

    say("cold paths…");
    const directUrl = `${stack.function.url}/mcp-tools-server/mcp`;
    const newSetKeys = await tenantsWithKeys(stack, distinctToolSets(BENCH_TOOL_NAMES, 20));
    const knownSetKeys = await tenantsWithKeys(
      stack,
      Array.from({ length: 20 }, () => BENCH_TOOL_NAMES),
    );
    const coldProcessFigures = [];
    for (const deno of [stack.functionDeno, Deno.execPath()]) {
      const version = deno === stack.functionDeno ? runtime : current;
      coldProcessFigures.push(
        await coldProcesses(stack, {
          entry: ENTRY,
          deno,
          key: benchKey,
          tools: BENCH_TOOL_NAMES.length,
          runs: opts.coldRuns,
          label: `bench entry (index.ts + bench tools), ${version}`,
        }),
        await coldProcesses(stack, {
          deno,
          key: builtinKey,
          tools: 2,
          runs: opts.coldRuns,
          label: `index.ts (built-in tools), ${version}`,
        }),
      );
    }
    const tenants = await newTenants(directUrl, { newSet: newSetKeys, knownSet: knownSetKeys });

    say("database round-trips…");
    const trips = [];
    for (const ttlMs of [30_000, 200]) {
      trips.push(
        await roundTrips(stack, { key: benchKey, ttlMs, requests: 1000, spreadMs: 2000 }),
      );
    }

    say("memory…");
    const probe = await probeServerMemory(ROOT, 100);
    const fingerprintKeys = await tenantsWithKeys(
      stack,
      distinctToolSets(BENCH_TOOL_NAMES, opts.fingerprints),
    );
    const fingerprints = await fingerprintsThroughCache(stack, {
      entry: ENTRY,
      keys: fingerprintKeys,
      every: 100,
      serverCacheMax: 100,
    });

    const report: Report = {
      date: new Date().toISOString(),
      machine: await machine(),
      command: `deno task bench${opts.quick ? " --quick" : ""}`,
      settings: {
        rounds: opts.rounds,
        durationMs: opts.durationMs,
        warmupMs: opts.warmupMs,
        concurrency: opts.concurrency,
        tools: BENCH_TOOL_NAMES.length,
      },
      throughput,
      cold: { processes: coldProcessFigures, newTenants: tenants },
      roundTrips: trips,
      memory: { probe, fingerprints },
      budget: [],
      seconds: 0,
    };
    report.budget = budget(report);
    report.seconds = Math.round((performance.now() - started) / 1000);
    printReport(report);
    await Deno.mkdir(join(opts.out, ".."), { recursive: true });
    await Deno.writeTextFile(opts.out, JSON.stringify(report, null, 2) + "\n");
    say(`wrote ${opts.out}`);
    await onCurrent.stop();
  } finally {
    await stack.stop();
  }
}

await main();
