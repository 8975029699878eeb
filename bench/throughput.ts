/**
 * Throughput and latency of every variant under the same closed-loop load, interleaved: each
 * round runs every variant once per method (in a rotated order), so machine noise lands on all.
 */
import { type LoadOptions, type LoadSample, runLoad, sendOnce } from "./load.ts";
import { mcpTarget, type Method, METHODS, rpcMessage } from "./mcp.ts";
import { percentile, round } from "./stats.ts";
import { BENCH_CALL_TOTAL, BENCH_TOOL_NAMES } from "./tools.ts";

export interface Variant {
  id: string;
  label: string;
  url: string;
  key?: string;
}

export interface VariantFigures {
  variant: string;
  label: string;
  method: Method;
  requests: number;
  errors: number;
  rps: number;
  /** Per-round throughput, to show the spread. */
  roundsRps: number[];
  p50Ms: number;
  p99Ms: number;
  /** rps relative to the reference variant (a). */
  ratio: number;
}

/** Fails loudly when a variant answers anything but the expected result. */
export async function checkVariant(v: Variant): Promise<void> {
  const list = rpcMessage((await sendOnce(mcpTarget(v.url, "tools/list", v.key))).text);
  // deno-lint-ignore no-explicit-any
  const names: string[] = (list.result?.tools ?? []).map((t: any) => t.name);
  const missing = BENCH_TOOL_NAMES.filter((n) => !names.includes(n));
  if (missing.length) {
    throw new Error(`${v.label}: tools/list lacks ${missing.join(", ")}: ${JSON.stringify(list)}`);
  }
  const call = rpcMessage((await sendOnce(mcpTarget(v.url, "tools/call", v.key))).text);
  if (call.result?.structuredContent?.total !== BENCH_CALL_TOTAL) {
    throw new Error(`${v.label}: unexpected tools/call answer ${JSON.stringify(call)}`);
  }
}

export async function measureThroughput(
  variants: Variant[],
  opts: LoadOptions & { rounds: number; reference: string; progress: (line: string) => void },
): Promise<VariantFigures[]> {
  const samples = new Map<string, LoadSample[]>();
  for (let r = 0; r < opts.rounds; r++) {
    for (const method of METHODS) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const v of order) {
        const sample = await runLoad(mcpTarget(v.url, method, v.key), opts);
        if (sample.errors > 0) {
          throw new Error(
            `${v.label} ${method}: ${sample.errors} failed, e.g. ${sample.firstError}`,
          );
        }
        const key = `${v.id} ${method}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
        opts.progress(
          `round ${r + 1}/${opts.rounds} ${method.padEnd(10)} ${v.label.padEnd(34)} ` +
            `${Math.round(sample.requests / sample.elapsedMs * 1000)} req/s`,
        );
      }
    }
  }

  const figures: VariantFigures[] = [];
  for (const method of METHODS) {
    for (const v of variants) {
      const runs = samples.get(`${v.id} ${method}`)!;
      const requests = runs.reduce((n, s) => n + s.requests, 0);
      const elapsed = runs.reduce((n, s) => n + s.elapsedMs, 0);
      const all = new Float64Array(requests);
      let at = 0;
      for (const s of runs) {
        all.set(s.latencies, at);
        at += s.latencies.length;
      }
      figures.push({
        variant: v.id,
        label: v.label,
        method,
        requests,
        errors: runs.reduce((n, s) => n + s.errors, 0),
        rps: round(requests / elapsed * 1000, 0),
        roundsRps: runs.map((s) => round(s.requests / s.elapsedMs * 1000, 0)),
        p50Ms: round(percentile(all, 50)),
        p99Ms: round(percentile(all, 99)),
        ratio: 0,
      });
    }
  }
  for (const f of figures) {
    const ref = figures.find((g) => g.method === f.method && g.variant === opts.reference)!;
    f.ratio = round(f.rps / ref.rps, 3);
  }
  return figures;
}
