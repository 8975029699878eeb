/** The bench's findings: the JSON shape, the budget goals, and the tables printed on stdout. */
import type { ColdProcessFigures, NewTenantFigures, Spread } from "./cold.ts";
import type { FingerprintFigures, ProbeFigures } from "./memory.ts";
import type { RoundTripFigures } from "./roundtrips.ts";
import { round, table } from "./stats.ts";
import type { VariantFigures } from "./throughput.ts";

export interface Machine {
  cores: number;
  cpu: string;
  deno: string;
  v8: string;
  os: string;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean;
}

export interface Report {
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, number>;
  throughput: VariantFigures[];
  cold: { processes: ColdProcessFigures[]; newTenants: NewTenantFigures };
  roundTrips: RoundTripFigures[];
  memory: { probe: ProbeFigures; fingerprints: FingerprintFigures };
  budget: Goal[];
  seconds: number;
}

export async function machine(): Promise<Machine> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: the model stays unknown.
  }
  return {
    cores: navigator.hardwareConcurrency,
    cpu,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
  };
}

function rps(r: Report, variant: string, method: string): number {
  return r.throughput.find((f) => f.variant === variant && f.method === method)?.rps ?? NaN;
}

/** tools/call throughput of `a` over `b`, round by round (both measured in every round). */
function roundRatios(r: Report, a: string, b: string): number[] {
  const find = (v: string) =>
    r.throughput.find((f) => f.variant === v && f.method === "tools/call")?.roundsRps ?? [];
  const [x, y] = [find(a), find(b)];
  return x.map((value, i) => value / y[i]).filter(Number.isFinite).sort((p, q) => p - q);
}

function perRoundMedian(r: Report, a: string, b: string): number {
  const ratios = roundRatios(r, a, b);
  return ratios.length === 0 ? NaN : ratios[Math.floor(ratios.length / 2)];
}

function perRound(r: Report, a: string, b: string): string {
  const ratios = roundRatios(r, a, b);
  if (ratios.length === 0) return "n/a";
  return `median ${round(perRoundMedian(r, a, b), 3)} (range ${round(ratios[0], 3)}–${
    round(ratios.at(-1)!, 3)
  })`;
}

export function budget(r: Report): Goal[] {
  // Like with like: the function and each baseline behind one gateway hop each; the figures
  // without any gateway are shown beside them.
  const call = (a: string, b: string) => rps(r, a, "tools/call") / rps(r, b, "tools/call");
  const ab = call("gateway", "lite-shared-gw");
  const ac = call("gateway", "lite-rebuild-gw");
  const cold = r.cold.processes[0];
  const inProcess = cold.inProcess?.p50 ?? NaN;
  const peak = r.memory.fingerprints.peakHeapMB;
  return [
    {
      goal: "(a)/(b) ≥ 0.85 on tools/call",
      measured: `${round(ab, 2)} both via a gateway (without any gateway: ${
        round(call("direct", "lite-shared"), 2)
      }; (a) via gateway / bare (b): ${round(call("gateway", "lite-shared"), 2)})`,
      met: ab >= 0.85,
    },
    {
      goal: "(a)/(c) ≥ 10 on tools/call",
      measured: `${round(ac, 1)} both via a gateway (without any gateway: ${
        round(call("direct", "lite-rebuild"), 1)
      })`,
      met: ac >= 10,
    },
    {
      goal: "cold first request p50 ≤ 60 ms (imports + key lookup + server build)",
      measured: `${inProcess} ms in process; ${cold.spawnToFirstAnswer.p50} ms from spawn`,
      met: inProcess <= 60,
    },
    {
      goal: "log + usage + limits cost ≤ 5 % of warm tools/call (direct, per round)",
      measured: `(m)/(u) ${perRound(r, "metered", "unmetered")}; ` +
        `with limits ${perRound(r, "metered-limited", "unmetered")}`,
      met: perRoundMedian(r, "metered", "unmetered") >= 0.95 &&
        perRoundMedian(r, "metered-limited", "unmetered") >= 0.95,
    },
    {
      goal: "1,000 fingerprints ≤ 64 MB",
      measured: `peak heap ${peak} MB (RSS ${r.memory.fingerprints.peakRssMB} MB)`,
      met: peak <= 64,
    },
  ];
}

const ms = (s: Spread) => `${s.p50} / ${s.p95}`;

export function printReport(r: Report): void {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `\n${r.command} — ${r.date.slice(0, 10)} — ${m.cores} cores, ${m.cpu}, Deno ${m.deno}`,
    `${r.settings.tools} tools; ${r.settings.rounds} rounds × ${r.settings.durationMs / 1000} s ` +
      `per variant and method, ${r.settings.concurrency} connections\n`,
  );
  for (const method of ["tools/call", "tools/list"]) {
    out.push(`${method}`);
    out.push(table(
      ["variant", "req/s", "per round", "p50 ms", "p99 ms", "× (a)"],
      r.throughput.filter((f) => f.method === method).map((f) => [
        f.label,
        f.rps,
        f.roundsRps.join(" "),
        f.p50Ms,
        f.p99Ms,
        f.ratio,
      ]),
    ));
    out.push("");
  }

  out.push("cold path, ms (p50 / p95)");
  out.push(table(
    ["process", "spawn → answer", "runtime", "imports", "app", "1st request", "in process"],
    r.cold.processes.map((c) => [
      `${c.entry}, n=${c.spawnToFirstAnswer.n}`,
      ms(c.spawnToFirstAnswer),
      c.runtimeStart ? ms(c.runtimeStart) : "",
      c.imports ? ms(c.imports) : "",
      c.appBuild ? ms(c.appBuild) : "",
      c.firstRequest ? ms(c.firstRequest) : "",
      c.inProcess ? ms(c.inProcess) : "",
    ]),
  ));
  const t = r.cold.newTenants;
  out.push("");
  out.push(table(["warm process, first request of…", "p50 / p95 ms"], [
    [`a new key with a new tool set (n=${t.newToolSet.n})`, ms(t.newToolSet)],
    [`a new key with a tool set already served (n=${t.knownToolSet.n})`, ms(t.knownToolSet)],
    ["the same keys again", ms(t.warm)],
  ]));

  out.push("\ndatabase round-trips for one key");
  out.push(table(
    [
      "TTL",
      "requests",
      "over",
      "TTL windows",
      "store lookups",
      "PostgREST lookups",
      "per 1,000",
      "leases + usage writes",
    ],
    r.roundTrips.map((d) => [
      `${d.ttlMs} ms`,
      d.requests,
      `${d.elapsedMs} ms`,
      d.windows,
      d.storeLookups,
      d.postgrestRequests,
      d.perThousand,
      d.meteringRequests,
    ]),
  ));

  const p = r.memory.probe;
  const f = r.memory.fingerprints;
  out.push(
    `\nmemory: one cached server (${p.tools} tools) ≈ ${
      round(p.heapPerServerBytes / 1024, 0)
    } KiB ` +
      `heap, built in ${p.buildMs} ms; in the function while the cache fills ≈ ` +
      `${round(f.heapPerServerBytes / 1024, 0)} KiB per server (key entry included)`,
  );
  out.push(`distinct tool sets through the function, SERVER_CACHE_MAX=${f.serverCacheMax}`);
  out.push(table(
    ["tool sets", "cached servers", "builds", "heap MB", "RSS MB"],
    f.samples.map((s) => [s.fingerprints, s.cachedServers, s.serverBuilds, s.heapMB, s.rssMB]),
  ));

  out.push("\nbudget");
  out.push(table(
    ["goal", "measured", ""],
    r.budget.map((g) => [g.goal, g.measured, g.met ? "met" : "MISSED"]),
  ));
  out.push(`\n(${r.seconds} s)`);
  console.log(out.join("\n"));
}
