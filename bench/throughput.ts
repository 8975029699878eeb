/**
 * Throughput and latency under the same closed-loop load, interleaved: each round runs every
 * case once (in a rotated order), so machine noise lands on all. Ratios are taken within each
 * round — both sides measured seconds apart — and reported as the median and range over rounds.
 */
import { cpuMicros } from "./cpu.ts";
import { type LoadOptions, type LoadSample, runLoad, sendOnce } from "./load.ts";
import { type Accept, mcpTarget, type Method, rpcMessage } from "./mcp.ts";
import { percentile, round } from "./stats.ts";
import { BENCH_CALL_TOTAL, BENCH_TOOL_NAMES } from "./tools.ts";

export interface Variant {
  id: string;
  label: string;
  url: string;
  key?: string;
  /** What this variant must be sent, whatever the case says (the SDK refuses JSON-only clients). */
  accept?: Accept;
  /** The serving process, for its CPU per request; absent when several processes serve. */
  pid?: number;
}

/** One measured combination: a variant, a method, and what the client accepts. */
export interface Case {
  variant: Variant;
  method: Method;
  accept: Accept;
}

export interface CaseFigures {
  variant: string;
  label: string;
  method: Method;
  accept: Accept;
  requests: number;
  rps: number;
  /** Per-round throughput, to show the spread. */
  roundsRps: number[];
  p50Ms: number;
  p99Ms: number;
  /**
   * CPU µs the serving process spent per request, median over rounds (and per round): steadier
   * than req/s on a shared machine. Absent when not measurable.
   */
  cpuUs?: number;
  roundsCpuUs?: number[];
}

/** `numerator / denominator` throughput, per round. */
export interface RatioSpec {
  name: string;
  numerator: string;
  denominator: string;
  method: Method;
  accept: Accept;
  /** When the denominator is measured with another Accept (see Variant.accept). */
  denominatorAccept?: Accept;
}

export interface RatioFigures extends RatioSpec {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

const caseKey = (variant: string, method: Method, accept: Accept) =>
  `${variant} ${method} ${accept}`;

/** Fails loudly when a variant answers anything but the expected result. */
export async function checkVariant(v: Variant, accept: Accept = v.accept ?? "json"): Promise<void> {
  const listed = await sendOnce(mcpTarget(v.url, "tools/list", v.key, accept));
  const list = rpcMessage(listed.text);
  // deno-lint-ignore no-explicit-any
  const names: string[] = (list.result?.tools ?? []).map((t: any) => t.name);
  const missing = BENCH_TOOL_NAMES.filter((n) => !names.includes(n));
  if (missing.length) {
    throw new Error(`${v.label}: tools/list lacks ${missing.join(", ")}: ${listed.text}`);
  }
  const call = rpcMessage((await sendOnce(mcpTarget(v.url, "tools/call", v.key, accept))).text);
  if (call.result?.structuredContent?.total !== BENCH_CALL_TOTAL) {
    throw new Error(`${v.label}: unexpected tools/call answer ${JSON.stringify(call)}`);
  }
}

/** Like with like: both variants answer byte-identical JSON to the same request. */
export async function checkSameBytes(a: Variant, b: Variant): Promise<void> {
  for (const method of ["tools/call", "tools/list"] as const) {
    const [x, y] = await Promise.all(
      [a, b].map((v) => sendOnce(mcpTarget(v.url, method, v.key, "json"))),
    );
    if (x.text !== y.text) {
      throw new Error(
        `${a.label} and ${b.label} answer ${method} differently:\n${x.text}\n${y.text}`,
      );
    }
  }
}

export async function measureThroughput(
  cases: Case[],
  opts: LoadOptions & { rounds: number; progress: (line: string) => void },
): Promise<{ figures: CaseFigures[]; perRound: Map<string, number[]> }> {
  const samples = new Map<string, LoadSample[]>();
  const cpu = new Map<string, number[]>();
  for (let r = 0; r < opts.rounds; r++) {
    const order = cases.map((_, i) => cases[(i + r) % cases.length]);
    for (const c of order) {
      const { variant: v, method, accept } = c;
      const cpuBefore = cpuMicros(v.pid);
      const sample = await runLoad(mcpTarget(v.url, method, v.key, accept), opts);
      const cpuAfter = cpuMicros(v.pid);
      if (sample.errors > 0) {
        throw new Error(`${v.label} ${method}: ${sample.errors} failed, e.g. ${sample.firstError}`);
      }
      const key = caseKey(v.id, method, accept);
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      // The warm-up's requests are not counted in `requests`, but their CPU is in the reading:
      // counted in proportion, so the figure is per request sent.
      if (cpuBefore !== undefined && cpuAfter !== undefined && sample.sent > 0) {
        cpu.set(key, [...(cpu.get(key) ?? []), (cpuAfter - cpuBefore) / sample.sent]);
      }
      opts.progress(
        `round ${r + 1}/${opts.rounds} ${method.padEnd(10)} ${accept.padEnd(4)} ` +
          `${v.label.padEnd(40)} ${Math.round(sample.requests / sample.elapsedMs * 1000)} req/s`,
      );
    }
  }

  const figures: CaseFigures[] = [];
  const perRound = new Map<string, number[]>();
  for (const { variant: v, method, accept } of cases) {
    const key = caseKey(v.id, method, accept);
    const runs = samples.get(key)!;
    const requests = runs.reduce((n, s) => n + s.requests, 0);
    const elapsed = runs.reduce((n, s) => n + s.elapsedMs, 0);
    const all = new Float64Array(requests);
    let at = 0;
    for (const s of runs) {
      all.set(s.latencies, at);
      at += s.latencies.length;
    }
    const rounds = runs.map((s) => s.requests / s.elapsedMs * 1000);
    perRound.set(key, rounds);
    figures.push({
      variant: v.id,
      label: v.label,
      method,
      accept,
      requests,
      rps: round(requests / elapsed * 1000, 0),
      roundsRps: rounds.map((x) => round(x, 0)),
      p50Ms: round(percentile(all, 50)),
      p99Ms: round(percentile(all, 99)),
      ...cpuFigures(cpu.get(key)),
    });
  }
  return { figures, perRound };
}

function cpuFigures(rounds: number[] | undefined) {
  if (!rounds || rounds.length === 0) return {};
  return { cpuUs: round(percentile(rounds, 50), 1), roundsCpuUs: rounds.map((x) => round(x, 1)) };
}

/** Each ratio per round, then its median and range. */
export function ratios(perRound: Map<string, number[]>, specs: RatioSpec[]): RatioFigures[] {
  return specs.flatMap((spec) => {
    const top = perRound.get(caseKey(spec.numerator, spec.method, spec.accept));
    const bottom = perRound.get(
      caseKey(spec.denominator, spec.method, spec.denominatorAccept ?? spec.accept),
    );
    if (!top || !bottom) return [];
    const rounds = top.map((x, i) => round(x / bottom[i], 3));
    return [{
      ...spec,
      rounds,
      median: round(percentile(rounds, 50), 2),
      min: round(Math.min(...rounds), 2),
      max: round(Math.max(...rounds), 2),
    }];
  });
}
