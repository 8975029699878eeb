// `deno task bench [--quick] [--rounds N] [--duration S] [--concurrency N] [--out FILE]`
//
// Starts its own throwaway stack (Postgres, PostgREST, gateway, the function) and the baseline
// servers on free ports, measures, prints tables and writes JSON (default
// bench/results/latest.json). Not part of the test suite.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { startExtraFunction } from "../scripts/lib/function.ts";
import { spawnChild } from "../scripts/lib/process.ts";
import { choosePorts } from "../scripts/lib/ports.ts";
import { waitForOk } from "../scripts/lib/wait.ts";
import { type Stack, startStack } from "../scripts/stack.ts";
import { type Baseline, BASELINES } from "./baselines.ts";
import { startBaseline } from "./baseline_process.ts";
import { buildFunction } from "../scripts/build.ts";
import { coldConfigs, coldProcesses, edgeRuntimeDeno, newTenants } from "./cold.ts";
import { fingerprintsThroughCache, probeServerMemory } from "./memory.ts";
import { METHODS } from "./mcp.ts";
import { budget, machine, printReport, type Report } from "./report.ts";
import { roundTrips } from "./roundtrips.ts";
import { distinctToolSets, registerBenchFamily, tenantsWithKeys } from "./setup.ts";
import {
  type Case,
  checkSameBytes,
  checkVariant,
  measureThroughput,
  ratios,
  type RatioSpec,
  type Variant,
} from "./throughput.ts";
import { BENCH_TOOL_NAMES } from "./tools.ts";

const ROOT = join(import.meta.dirname!, "..");
const ENTRY = join(ROOT, "bench", "function_entry.ts");
function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      rounds: { type: "string" },
      duration: { type: "string" },
      concurrency: { type: "string" },
      fingerprints: { type: "string" },
      out: { type: "string" },
    },
  });
  const quick = values.quick;
  return {
    quick,
    rounds: Number(values.rounds ?? 5),
    durationMs: Number(values.duration ?? (quick ? 0.5 : 2)) * 1000,
    warmupMs: quick ? 200 : 500,
    concurrency: Number(values.concurrency ?? 16),
    coldRuns: quick ? 5 : 20,
    fingerprints: Number(values.fingerprints ?? (quick ? 1000 : 10_000)),
    out: values.out ?? join(ROOT, "bench", "results", quick ? "quick.json" : "latest.json"),
  };
}

const say = (line: string) => console.error(line);

/** Baselines also run on the edge runtime's Deno, so the function is compared on its own. */
const EDGE_BASELINES: Baseline[] = ["lite-shared", "ceiling", "dispatch", "dispatch-logged"];

/**
 * Bare mcp-lite behind a gateway stand-in of its own, to compare with the function behind the
 * stack's. The stand-in (a Hono proxy) costs more per request than either server, so these
 * figures are reported apart: they measure the stand-in as much as the servers.
 */
async function behindGateway(stack: Stack, baselineUrl: string): Promise<Variant> {
  const { port } = choosePorts({ port: undefined });
  const child = await spawnChild({
    name: "lite-shared-gateway",
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
    logPath: join(stack.runDir, "logs", "lite-shared-gateway.log"),
    pidDir: join(stack.runDir, "pids"),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/health`, { timeoutMs: 60_000, children: [child] });
  return {
    id: "lite-shared-gw",
    label: "(b) bare mcp-lite via gateway",
    url: `${url}/functions/v1/mcp-tools-server/mcp`,
  };
}

/** The ratios the bench reports (the budget finds its own by name). */
function ratioSpecs(): RatioSpec[] {
  const json = METHODS.flatMap((method) =>
    [
      // Like with like: the function and its baselines on the same Deno. The edge runtime's is
      // where the function runs in production, so those are the primary figures.
      { name: "function / bare mcp-lite", numerator: "direct", denominator: "lite-shared-edge" },
      { name: "function / Deno.serve ceiling", numerator: "direct", denominator: "ceiling-edge" },
      // The floor under the function while mcp-lite serves the tools and each request is logged:
      // above 1.0 here, the function can't match bare mcp-lite whatever it does.
      {
        name: "floor (dispatch + log line) / bare mcp-lite",
        numerator: "dispatch-logged-edge",
        denominator: "lite-shared-edge",
      },
      {
        name: "dispatch alone / bare mcp-lite",
        numerator: "dispatch-edge",
        denominator: "lite-shared-edge",
      },
      {
        name: "function / floor (dispatch + log line)",
        numerator: "direct",
        denominator: "dispatch-logged-edge",
      },
      {
        name: "function / bare mcp-lite, on the bench's Deno",
        numerator: "direct-current",
        denominator: "lite-shared",
      },
      {
        name: "function / Deno.serve ceiling, on the bench's Deno",
        numerator: "direct-current",
        denominator: "ceiling",
      },
      {
        name: "function on the edge runtime's Deno / bare mcp-lite on the bench's",
        numerator: "direct",
        denominator: "lite-shared",
      },
      {
        name: "function on Deno 2.1.4 / on the bench's Deno",
        numerator: "direct",
        denominator: "direct-current",
      },
      {
        name: "bare mcp-lite / Deno.serve ceiling",
        numerator: "lite-shared",
        denominator: "ceiling",
      },
      { name: "function / rebuilt (naive)", numerator: "direct", denominator: "lite-rebuild" },
      {
        name: "function / rebuilt (memoised)",
        numerator: "direct",
        denominator: "lite-rebuild-memo",
      },
      {
        name: "function / SDK v2 (SDK sent SSE Accept)",
        numerator: "direct",
        denominator: "sdk-v2",
        denominatorAccept: "sse" as const,
      },
      {
        name: "function / bare mcp-lite, both via gateway",
        numerator: "gateway",
        denominator: "lite-shared-gw",
      },
    ].map((r) => ({ ...r, method, accept: "json" as const }))
  );
  const sse = METHODS.map((method) => ({
    name: "function / bare mcp-lite, SSE accepted",
    numerator: "direct",
    denominator: "lite-shared-edge",
    method,
    accept: "sse" as const,
  }));
  return [...json, ...sse];
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
    const edge = await edgeRuntimeDeno();
    const baselines = [];
    // The floors are measured where the function runs only (the edge runtime's Deno).
    for (const id of BASELINES.filter((b) => !b.startsWith("dispatch"))) {
      baselines.push(await startBaseline(stack, id));
    }
    for (const id of EDGE_BASELINES) baselines.push(await startBaseline(stack, id, edge.path));
    // Bare mcp-lite on the function's own runtime: what SSE, same-bytes and gateway compare with.
    const lite = baselines.find((b) => b.id === "lite-shared-edge")!;
    const direct: Variant = {
      id: "direct",
      label: "(a) function, no gateway (edge runtime's Deno)",
      url: `${stack.function.url}/mcp-tools-server/mcp`,
      key: benchKey,
      pid: stack.function.pid,
    };
    // The stack runs the function on the edge runtime's Deno (2.1.4); the same entry on the Deno
    // running this bench is measured beside it, so both runtimes' warm figures come from one run.
    const onCurrent = await startExtraFunction({
      root: stack.root,
      entry: ENTRY,
      deno: Deno.execPath(),
      env: stack.functionEnv,
      logDir: join(stack.runDir, "logs"),
      pidDir: join(stack.runDir, "pids"),
    });
    const directCurrent: Variant = {
      id: "direct-current",
      label: `(a) function, no gateway (Deno ${Deno.version.deno})`,
      url: `${onCurrent.url}/mcp-tools-server/mcp`,
      key: benchKey,
      pid: onCurrent.pid,
    };
    const viaGateway = [
      { id: "gateway", label: "(a) function via gateway", url: stack.mcpUrl, key: benchKey },
      await behindGateway(stack, lite.base),
    ];
    const json = [direct, directCurrent, ...baselines, ...viaGateway];
    for (const v of json) await checkVariant(v);
    for (const v of [direct, lite]) await checkVariant(v, "sse");
    await checkSameBytes(direct, lite);
    // The floors answer what bare mcp-lite answers, byte for byte.
    for (const floor of baselines.filter((b) => b.id.startsWith("dispatch"))) {
      await checkSameBytes(floor, lite);
    }

    say("throughput and latency…");
    const cases: Case[] = METHODS.flatMap((method) => [
      ...json.map((variant) => ({ variant, method, accept: variant.accept ?? "json" as const })),
      ...[direct, lite].map((variant) => ({ variant, method, accept: "sse" as const })),
    ]);
    const { figures, perRound } = await measureThroughput(cases, {
      rounds: opts.rounds,
      durationMs: opts.durationMs,
      warmupMs: opts.warmupMs,
      concurrency: opts.concurrency,
      progress: say,
    });

    say("cold starts…");
    // The build the README deploys, index.ts itself and the runtime's floor, on the edge
    // runtime's Deno and on ours, taking turns.
    const build = await buildFunction(join(stack.runDir, "build"));
    const cold = await coldProcesses(stack, await coldConfigs(build), {
      key: builtinKey,
      tools: 2,
      runs: opts.coldRuns,
    });
    const directUrl = direct.url;
    const newSetKeys = await tenantsWithKeys(stack, distinctToolSets(BENCH_TOOL_NAMES, 20));
    const knownSetKeys = await tenantsWithKeys(
      stack,
      Array.from({ length: 20 }, () => BENCH_TOOL_NAMES),
    );
    const tenants = await newTenants(directUrl, { newSet: newSetKeys, knownSet: knownSetKeys });

    say("database round-trips…");
    const trips = [];
    for (const ttlMs of [30_000, 200]) {
      trips.push(
        await roundTrips(stack, { key: benchKey, ttlMs, requests: 1000, spreadMs: 2000 }),
      );
    }

    say("memory…");
    const probe = await probeServerMemory(ROOT, 1000);
    const fingerprintKeys = await tenantsWithKeys(
      stack,
      distinctToolSets(BENCH_TOOL_NAMES, opts.fingerprints, 20),
    );
    const fingerprints = await fingerprintsThroughCache(stack, {
      entry: ENTRY,
      keys: fingerprintKeys,
      every: Math.max(100, opts.fingerprints / 10),
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
      throughput: figures,
      ratios: ratios(perRound, ratioSpecs()),
      cold: { processes: cold, newTenants: tenants },
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
  } finally {
    await stack.stop();
  }
}

await main();
