/**
 * Memory: heap per cached server (in isolation), and 1,000 distinct tool sets sent through the
 * real function, whose LRU bound (SERVER_CACHE_MAX) must keep memory flat once full.
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
  samples: MemorySample[];
  /** Heap growth per server while the cache fills (includes each key's cache entry). */
  heapPerServerBytes: number;
  /** Heap change from the first full cache to the end: ~0 when the bound holds. */
  heapAfterFullMB: number;
  peakHeapMB: number;
  peakRssMB: number;
}

export async function fingerprintsThroughCache(
  stack: Stack,
  opts: { entry: string; keys: string[]; every: number; serverCacheMax: number },
): Promise<FingerprintFigures> {
  const { probe } = choosePorts({ probe: undefined });
  const fn = await stack.startFunction({
    BENCH_PROBE_PORT: String(probe),
    DENO_V8_FLAGS: "--expose-gc",
    SERVER_CACHE_MAX: String(opts.serverCacheMax),
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
    for (let i = 1; i < opts.keys.length; i++) {
      const res = await fetch(url, {
        method: "POST",
        headers: mcpTarget(url, "tools/list", opts.keys[i]).headers,
        body: mcpTarget(url, "tools/list").body,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`fingerprint ${i}: ${res.status} ${text}`);
      if ((i + 1) % opts.every === 0) samples.push(await sample(i + 1));
    }
    const full = samples.find((s) => s.cachedServers >= opts.serverCacheMax) ?? samples.at(-1)!;
    const first = samples[0];
    const last = samples.at(-1)!;
    return {
      serverCacheMax: opts.serverCacheMax,
      samples,
      heapPerServerBytes: Math.round(
        (full.heapMB - first.heapMB) * 1024 * 1024 / Math.max(1, full.cachedServers - 1),
      ),
      heapAfterFullMB: round(last.heapMB - full.heapMB, 1),
      peakHeapMB: Math.max(...samples.map((s) => s.heapMB)),
      peakRssMB: Math.max(...samples.map((s) => s.rssMB)),
    };
  } finally {
    await fn.stop();
  }
}
