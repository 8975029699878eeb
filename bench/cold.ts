/**
 * Cold paths: the first request of a freshly started function process, and the first request
 * of a new tenant on a warm one.
 */
import { join } from "node:path";
import { spawnFunction } from "../scripts/lib/function.ts";
import { choosePorts } from "../scripts/lib/ports.ts";
import type { Stack } from "../scripts/stack.ts";
import { sendOnce } from "./load.ts";
import { mcpTarget, rpcMessage } from "./mcp.ts";
import { percentile, round, sleep } from "./stats.ts";

export interface Spread {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export function spread(values: number[]): Spread {
  return {
    n: values.length,
    p50: round(percentile(values, 50), 1),
    p95: round(percentile(values, 95), 1),
    max: round(Math.max(...values), 1),
  };
}

export interface ColdProcessFigures {
  entry: string;
  tools: number;
  /** Spawn until the first MCP answer is read by the client, as a user would wait. */
  spawnToFirstAnswer: Spread;
  /** Split inside the process (bench entry only): ms. */
  runtimeStart?: Spread;
  imports?: Spread;
  appBuild?: Spread;
  /** The first request itself: key lookup + server build + the call. */
  firstRequest?: Spread;
  /** imports + app build + first request: the function's own share. */
  inProcess?: Spread;
}

const POLL_MS = 2;

/** Sends `body` until the process accepts a connection; returns when an answer was read. */
async function firstAnswer(url: string, key: string, deadline: number) {
  while (true) {
    try {
      const answer = await sendOnce(mcpTarget(url, "tools/list", key));
      return answer;
    } catch (err) {
      if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
      if (performance.now() > deadline) throw new Error(`no answer from ${url} in time`);
      await sleep(POLL_MS);
    }
  }
}

export async function coldProcesses(
  stack: Stack,
  opts: {
    entry?: string;
    key: string;
    tools: number;
    runs: number;
    label: string;
    /** The deno binary to start (default: the stack's, the edge runtime's Deno). */
    deno?: string;
  },
): Promise<ColdProcessFigures> {
  const total: number[] = [];
  const split: Record<string, number>[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const ports = choosePorts({ fn: undefined, probe: undefined });
    const started = performance.now();
    const child = await spawnFunction({
      root: stack.root,
      entry: opts.entry,
      deno: opts.deno ?? stack.functionDeno,
      env: { ...stack.functionEnv, BENCH_PROBE_PORT: String(ports.probe) },
      port: ports.fn,
      logPath: join(stack.runDir, "logs", `cold-${ports.fn}.log`),
      pidDir: join(stack.runDir, "pids"),
    });
    try {
      const url = `http://127.0.0.1:${ports.fn}/mcp-tools-server/mcp`;
      const answer = await firstAnswer(url, opts.key, started + 60_000);
      total.push(performance.now() - started);
      const tools = rpcMessage(answer.text).result?.tools?.length;
      if (answer.status !== 200 || tools !== opts.tools) {
        throw new Error(`cold ${opts.label}: unexpected answer ${answer.status} ${answer.text}`);
      }
      if (opts.entry) {
        const res = await fetch(`http://127.0.0.1:${ports.probe}/timings`);
        split.push(await res.json());
      }
    } finally {
      await child.stop();
    }
  }
  const figures: ColdProcessFigures = {
    entry: opts.label,
    tools: opts.tools,
    spawnToFirstAnswer: spread(total),
  };
  if (split.length) {
    const of = (f: (t: Record<string, number>) => number) => spread(split.map(f));
    figures.runtimeStart = of((t) => t.entered);
    figures.imports = of((t) => t.imported - t.entered);
    figures.appBuild = of((t) => t.built - t.imported);
    figures.firstRequest = of((t) => t.firstRequestEnd - t.firstRequestStart);
    figures.inProcess = of((t) =>
      (t.imported - t.entered) + (t.built - t.imported) + (t.firstRequestEnd - t.firstRequestStart)
    );
  }
  return figures;
}

export interface NewTenantFigures {
  /** A new key whose tool set no one used yet: key lookup + server build + call. */
  newToolSet: Spread;
  /** A new key with a tool set already served: key lookup + call. */
  knownToolSet: Spread;
  /** The same keys again: cache hits only. */
  warm: Spread;
}

/** First requests of new tenants on the warm function process at `url`. */
export async function newTenants(
  url: string,
  keys: { newSet: string[]; knownSet: string[] },
): Promise<NewTenantFigures> {
  const time = async (key: string) => {
    const t0 = performance.now();
    const answer = await sendOnce(mcpTarget(url, "tools/list", key));
    const ms = performance.now() - t0;
    if (answer.status !== 200 || !rpcMessage(answer.text).result) {
      throw new Error(`new tenant request failed: ${answer.status} ${answer.text}`);
    }
    return ms;
  };
  const newToolSet: number[] = [];
  for (const key of keys.newSet) newToolSet.push(await time(key));
  const knownToolSet: number[] = [];
  for (const key of keys.knownSet) knownToolSet.push(await time(key));
  const warm: number[] = [];
  for (const key of [...keys.newSet, ...keys.knownSet]) warm.push(await time(key));
  return { newToolSet: spread(newToolSet), knownToolSet: spread(knownToolSet), warm: spread(warm) };
}
