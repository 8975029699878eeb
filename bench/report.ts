/** The bench's findings: the JSON shape, the budget goals, and the tables printed on stdout. */
import type { ColdProcessFigures, NewTenantFigures, Spread } from "./cold.ts";
import type { CaseFigures, RatioFigures } from "./throughput.ts";
import type { FingerprintFigures, ProbeFigures } from "./memory.ts";
import type { RoundTripFigures } from "./roundtrips.ts";
import { round, table } from "./stats.ts";

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
  throughput: CaseFigures[];
  ratios: RatioFigures[];
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

function ratio(r: Report, name: string, method: string, accept = "json"): RatioFigures | undefined {
  return r.ratios.find((x) => x.name === name && x.method === method && x.accept === accept);
}

/** `median (min–max)`, per-round ratios. */
export const spreadText = (x: RatioFigures | undefined) =>
  x ? `${x.median} (${x.min}–${x.max})` : "not measured";

export function budget(r: Report): Goal[] {
  const goals: Goal[] = [];
  for (const method of ["tools/call", "tools/list"]) {
    for (
      const [where, suffix] of [["edge runtime's Deno", ""], [
        "bench's Deno",
        ", on the bench's Deno",
      ]]
    ) {
      const lite = ratio(r, `function / bare mcp-lite${suffix}`, method);
      // Measured on the edge runtime's Deno only: how fast anything on mcp-lite's dispatch that
      // logs each request can be.
      const floor = suffix
        ? undefined
        : ratio(r, "floor (dispatch + log line) / bare mcp-lite", method);
      goals.push({
        goal: `${method}: function / bare mcp-lite (JSON, direct, ${where}) ≥ 1.0`,
        measured: `median (range) of ${lite?.rounds.length ?? 0} rounds: ${spreadText(lite)}` +
          (floor ? `; the floor (mcp-lite's dispatch + one log line) ${spreadText(floor)}` : ""),
        met: (lite?.median ?? 0) >= 1,
      });
      const ceiling = ratio(r, `function / Deno.serve ceiling${suffix}`, method);
      goals.push({
        goal: `${method}: function / plain Deno.serve ceiling (${where}) ≥ 0.5`,
        measured: spreadText(ceiling),
        met: (ceiling?.median ?? 0) >= 0.5,
      });
    }
  }
  goals.push(...coldGoals(r.cold.processes));
  const f = r.memory.fingerprints;
  goals.push({
    goal: `${f.cachedServers.toLocaleString("en")} cached fingerprints ≤ 64 MB heap`,
    measured: `peak heap ${f.peakHeapMB} MB (RSS ${f.peakRssMB} MB)`,
    met: f.peakHeapMB <= 64,
  });
  return goals;
}

/**
 * The cold-start goal, for what the README tells people to deploy (the build) on the runtime's
 * Deno; with the runtime's own floor (a script importing nothing) measured the same way beside it.
 */
export function coldGoals(processes: ColdProcessFigures[]): Goal[] {
  const edge = (entry: string, codeCache: boolean) =>
    processes.find((c) =>
      c.entry === entry && c.codeCache === codeCache && c.runtime.endsWith(RUNTIME_DENO)
    );
  const goals: Goal[] = [];
  for (const codeCache of [false, true]) {
    const deployed = edge("build", codeCache) ?? edge("index.ts", codeCache);
    if (!deployed) continue;
    const floor = edge("floor", codeCache);
    const ours = floor && deployed.overFloorMs
      ? `; the runtime's floor (nothing imported) ${floor.fromRuntimeStart.p50} ms, ours on top ` +
        `${deployed.overFloorMs.p50} ms (p95 ${deployed.overFloorMs.p95}, paired by round)`
      : "";
    goals.push({
      goal: `cold start, ${deployed.entry} on ${deployed.runtime}, ` +
        `${codeCache ? "with" : "without"} a code cache: first answer from runtime start, ` +
        "p50 ≤ 50 ms",
      measured: `${deployed.fromRuntimeStart.p50} ms (p95 ${deployed.fromRuntimeStart.p95}); ` +
        `${deployed.spawnToFirstAnswer.p50} ms from spawn${ours}`,
      met: deployed.fromRuntimeStart.p50 <= 50,
    });
  }
  return goals;
}

const RUNTIME_DENO = "2.1.4";

const ms = (s: Spread) => `${s.p50} / ${s.p95}`;

/** The cold-start table: one line per runtime and entry. */
export function coldTable(processes: ColdProcessFigures[]): string {
  return table(
    [
      "function",
      "runtime",
      "code cache",
      "runs",
      "from runtime start",
      "over the floor",
      "from spawn",
      "CPU ms",
      "then tools/call",
    ],
    processes.map((c) => [
      c.entry,
      c.runtime,
      c.codeCache === false ? "no" : "yes",
      c.fromRuntimeStart.n,
      `${ms(c.fromRuntimeStart)} / ${c.fromRuntimeStart.max}`,
      c.overFloorMs ? ms(c.overFloorMs) : "",
      `${ms(c.spawnToFirstAnswer)} / ${c.spawnToFirstAnswer.max}`,
      c.cpuMs ? ms(c.cpuMs) : "",
      c.firstToolCallMs ? ms(c.firstToolCallMs) : "",
    ]),
  );
}

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
      ["variant", "accept", "req/s", "per round", "p50 ms", "p99 ms", "CPU µs/req"],
      r.throughput.filter((f) => f.method === method).map((f) => [
        f.label,
        f.accept,
        f.rps,
        f.roundsRps.join(" "),
        f.p50Ms,
        f.p99Ms,
        f.cpuUs ?? "",
      ]),
    ));
    out.push("");
  }
  out.push("ratios of throughput, per round: median (min–max)");
  out.push(table(
    ["ratio", "accept", "tools/call", "tools/list"],
    [...new Set(r.ratios.map((x) => `${x.name}\t${x.accept}`))].map((key) => {
      const [name, accept] = key.split("\t");
      return [
        name,
        accept,
        spreadText(ratio(r, name, "tools/call", accept)),
        spreadText(ratio(r, name, "tools/list", accept)),
      ];
    }),
  ));
  out.push("");

  out.push("cold start, first tools/list with a new key, ms (p50 / p95 / max)");
  out.push(coldTable(r.cold.processes));
  const t = r.cold.newTenants;
  out.push("");
  out.push(table(["warm process, first request of…", "p50 / p95 ms"], [
    [`a new key with a new tool set (n=${t.newToolSet.n})`, ms(t.newToolSet)],
    [`a new key with a tool set already served (n=${t.knownToolSet.n})`, ms(t.knownToolSet)],
    ["the same keys again", ms(t.warm)],
  ]));

  out.push("\ndatabase round-trips for one key");
  out.push(table(
    ["TTL", "requests", "over", "TTL windows", "store lookups", "PostgREST requests", "per 1,000"],
    r.roundTrips.map((d) => [
      `${d.ttlMs} ms`,
      d.requests,
      `${d.elapsedMs} ms`,
      d.windows,
      d.storeLookups,
      d.postgrestRequests,
      d.perThousand,
    ]),
  ));

  const p = r.memory.probe;
  const f = r.memory.fingerprints;
  out.push(
    `\nmemory: in isolation, a server for a distinct set of ≤ ${p.tools} tools ≈ ` +
      `${p.heapPerServerBytes} B (built in ${round(p.buildMs * 1000, 1)} µs), its tool set ≈ ` +
      `${p.heapPerToolSetBytes} B; in the function ≈ ${f.heapPerServerBytes} B per cached ` +
      "fingerprint (server, tool set and key entry)",
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
