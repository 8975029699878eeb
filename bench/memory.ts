/**
 * Memory: heap per cached server (in isolation), and N distinct tool sets sent through the real
 * function with SERVER_CACHE_MAX = TENANT_CACHE_MAX = N, so every one of them stays cached (one
 * server and one key entry each) and the heap measured is that of N cached fingerprints.
 */
import { join } from "node:path";
import { choosePorts } from "../scripts/lib/ports.ts";
import type { Stack } from "../scripts/stack.ts";
import { runLoad } from "./load.ts";
import { mcpTarget } from "./mcp.ts";
import { mb, round } from "./stats.ts";

export interface ProbeFigures {
  servers: number;
  tools: number;
  /** A distinct tool set, as a key-cache entry holds it. */
  heapPerToolSetBytes: number;
  heapPerServerBytes: number;
  buildMs: number;
}

export async function probeServerMemory(root: string, n: number): Promise<ProbeFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", join(root, "bench", "memory_probe.ts"), `${n}`],
    cwd: root,
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (out.code !== 0) throw new Error("memory probe failed");
  const figures = JSON.parse(new TextDecoder().decode(out.stdout)) as ProbeFigures;
  return { ...figures, buildMs: round(figures.buildMs, 2) };
}

export interface MemorySample {
  fingerprints: number;
  cachedServers: number;
  serverBuilds: number;
  heapMB: number;
  rssMB: number;
}

export interface FingerprintFigures {
  serverCacheMax: number;
  /** Cached servers at the end: the count the figures are for. */
  cachedServers: number;
  samples: MemorySample[];
  /** Heap growth per fingerprint while the cache fills (its key's cache entry included). */
  heapPerServerBytes: number;
  peakHeapMB: number;
  peakRssMB: number;
}

export async function fingerprintsThroughCache(
  stack: Stack,
  opts: { entry: string; keys: string[]; every: number },
): Promise<FingerprintFigures> {
  const { probe } = choosePorts({ probe: undefined });
  const fn = await stack.startFunction({
    BENCH_PROBE_PORT: String(probe),
    DENO_V8_FLAGS: "--expose-gc",
    SERVER_CACHE_MAX: String(opts.keys.length),
    TENANT_CACHE_MAX: String(opts.keys.length),
  }, opts.entry);
  const url = `${fn.url}/mcp-tools-server/mcp`;
  const sample = async (fingerprints: number): Promise<MemorySample> => {
    const memory = await (await fetch(`http://127.0.0.1:${probe}/memory`)).json();
    if (!memory.gc) throw new Error("the function process did not get --expose-gc");
    const metrics = await (await fetch(`${fn.url}/mcp-tools-server/metrics`, {
      headers: { authorization: `Bearer ${stack.metricsToken}` },
    })).json();
    return {
      fingerprints,
      cachedServers: metrics.cachedServers,
      serverBuilds: metrics.serverBuilds,
      heapMB: mb(memory.heapUsed),
      rssMB: mb(memory.rss),
    };
  };
  try {
    // Warm the process on one key, so the first sample already holds the code and one server.
    await runLoad(mcpTarget(url, "tools/list", opts.keys[0]), {
      concurrency: 2,
      durationMs: 300,
      warmupMs: 0,
    });
    const samples = [await sample(1)];
    // A few requests in flight at a time, each a new key (a store lookup) and a new tool set.
    const send = async (i: number) => {
      const target = mcpTarget(url, "tools/list", opts.keys[i]);
      const res = await fetch(url, { method: "POST", headers: target.headers, body: target.body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`fingerprint ${i}: ${res.status} ${text}`);
    };
    for (let from = 1; from < opts.keys.length; from += opts.every) {
      const to = Math.min(opts.keys.length, from + opts.every);
      for (let i = from; i < to; i += 8) {
        await Promise.all(Array.from({ length: Math.min(8, to - i) }, (_, k) => send(i + k)));
      }
      samples.push(await sample(to));
    }
    const first = samples[0];
    const last = samples.at(-1)!;
    if (last.cachedServers !== opts.keys.length) {
      throw new Error(`${last.cachedServers} servers cached, not ${opts.keys.length}`);
    }
    return {
      serverCacheMax: opts.keys.length,
      cachedServers: last.cachedServers,
      samples,
      heapPerServerBytes: Math.round(
        (last.heapMB - first.heapMB) * 1024 * 1024 / Math.max(1, last.cachedServers - 1),
      ),
      peakHeapMB: Math.max(...samples.map((s) => s.heapMB)),
      peakRssMB: Math.max(...samples.map((s) => s.rssMB)),
    };
  } finally {
    await fn.stop();
  }
}
