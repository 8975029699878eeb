/**
 * Cold paths: the first request of a freshly started function process, and the first request
 * of a new tenant on a warm one.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { functionEntry } from "../scripts/lib/function.ts";
import { choosePorts } from "../scripts/lib/ports.ts";
import { spawnChild } from "../scripts/lib/process.ts";
import type { Stack } from "../scripts/stack.ts";
import { sendOnce } from "./load.ts";
import { mcpBody, mcpTarget, rpcMessage } from "./mcp.ts";
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

/** A Deno binary the function runs on: the bench's own, or the one the edge runtime embeds. */
export interface Runtime {
  name: string;
  path: string;
  /** 2.1.4 can't read the lockfile newer Deno writes; its versions are pinned in deno.json. */
  args: string[];
}

/** The Deno the edge runtime embeds, from the npm registry (cached by npx after the first run). */
export async function edgeRuntimeDeno(version = "2.1.4"): Promise<Runtime> {
  const out = await new Deno.Command("npx", {
    args: ["-y", `deno@${version}`, "eval", "console.log(Deno.execPath())"],
    // Away from the project: Deno 2.1.4 can't read its lockfile.
    cwd: "/",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`could not install Deno ${version} with npx`);
  const path = new TextDecoder().decode(out.stdout).trim();
  return { name: `Deno ${version}`, path, args: ["--no-lock"] };
}

export function benchDeno(): Runtime {
  return { name: `Deno ${Deno.version.deno}`, path: Deno.execPath(), args: [] };
}

/** What a cold process runs: the runtime's floor, the function's source, or its build. */
export type ColdEntry = "floor" | "index.ts" | "build";

export interface ColdProcessFigures {
  /** floor: cold_floor.ts (no imports, fixed answer); index.ts; build: `deno task build`'s. */
  entry: ColdEntry;
  runtime: string;
  /**
   * Whether Deno's V8 code cache (compiled code kept in DENO_DIR from an earlier start) was used;
   * without it every start parses and compiles everything it loads.
   */
  codeCache: boolean;
  tools: number;
  /** Runtime start (performance.now()'s origin) until the first answer's body was ready. */
  fromRuntimeStart: Spread;
  /** Spawn until the client has read the first answer, polling for the port every 2 ms. */
  spawnToFirstAnswer: Spread;
  /** CPU time of the process (all threads, /proc schedstat) once the first answer was read. */
  cpuMs: Spread;
  /**
   * Ours alone: from runtime start, minus the floor's start on the same runtime and code-cache
   * setting in the same round (so load that moves between rounds falls on both); absent for the
   * floor itself.
   */
  overFloorMs?: Spread;
  /**
   * The process's first tools/call (`echo`), sent right after the first answer and timed by the
   * client: what the first call pays on its own (the tool's family, zod and mcp-lite are imported
   * then). Absent for the floor.
   */
  firstToolCallMs?: Spread;
}

const POLL_MS = 2;
const COLD_ENTRY = join(import.meta.dirname!, "cold_entry.ts");
const COLD_FLOOR = join(import.meta.dirname!, "cold_floor.ts");

/** Sends `body` until the process accepts a connection; returns when an answer was read. */
async function firstAnswer(url: string, key: string, deadline: number) {
  while (true) {
    try {
      return await sendOnce(mcpTarget(url, "tools/list", key));
    } catch (err) {
      if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
      if (performance.now() > deadline) throw new Error(`no answer from ${url} in time`);
      await sleep(POLL_MS);
    }
  }
}

/** CPU time of every thread of `pid` so far, in ms (from each /proc/<pid>/task/<tid>/schedstat). */
async function cpuMs(pid: number): Promise<number> {
  let ns = 0;
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/schedstat`);
      ns += Number(stat.split(" ")[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e6;
}

/** One way of starting the function: a runtime and what it runs (`build`: the built index.js). */
export interface ColdConfig {
  runtime: Runtime;
  entry: ColdEntry;
  build?: string;
  /** Default true; false starts with --no-code-cache. */
  codeCache?: boolean;
}

/**
 * A DENO_DIR of the cold processes' own: the npm packages and remote modules are linked from the
 * bench's (nothing to download), but its caches — dependency analysis, transpiled code, V8's code
 * cache, all SQLite files — are private, so what other Deno processes on the machine do to the
 * shared ones doesn't enter the figures. An edge runtime's worker shares no such files either.
 */
export async function privateDenoDir(dir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, target] of [["npm", info.npmCache], ["remote", info.modulesCache]]) {
    if (typeof target !== "string") continue;
    await Deno.mkdir(target, { recursive: true });
    await Deno.symlink(target, join(dir, name)).catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
  }
  return dir;
}

/** Every cold configuration, runtime by runtime: the floor, index.ts and the build at `build`. */
export async function coldConfigs(build: string): Promise<ColdConfig[]> {
  const configs: ColdConfig[] = [];
  for (const runtime of [await edgeRuntimeDeno(), benchDeno()]) {
    for (const entry of ["floor", "index.ts", "build"] as const) {
      configs.push({ runtime, entry, build });
    }
    // What a start costs where no earlier start left compiled code behind.
    for (const entry of ["floor", "index.ts", "build"] as const) {
      configs.push({ runtime, entry, build, codeCache: false });
    }
  }
  return configs;
}

/**
 * Fresh processes of the function (through cold_entry.ts, which only adds the timing), each asked
 * one tools/list with a key it has never seen: imports, composition, key lookup, tool-family
 * import, server build. The configurations take turns, run by run, so load on the machine falls
 * on all of them alike.
 */
export async function coldProcesses(
  stack: Stack,
  configs: ColdConfig[],
  options: { key: string; tools: number; runs: number; progress?: (line: string) => void },
): Promise<ColdProcessFigures[]> {
  const opts = { ...options, denoDir: await privateDenoDir(join(stack.runDir, "cold-deno-dir")) };
  const fromStart = configs.map(() => [] as number[]);
  const total = configs.map(() => [] as number[]);
  const cpu = configs.map(() => [] as number[]);
  const firstCall = configs.map(() => [] as number[]);
  // Two starts each, not counted, each left running a while: Deno writes a module's code cache
  // some time after loading it, so processes stopped right after their first answer (as the
  // measured ones are) would leave none behind. After these, downloads, transpiling and the code
  // cache are in place.
  for (let i = 0; i < 2; i++) {
    for (const config of configs) await coldRun(stack, config, { ...opts, lingerMs: 2_000 });
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const [c, config] of configs.entries()) {
      const ms = await coldRun(stack, config, opts);
      fromStart[c].push(ms.fromStart);
      total[c].push(ms.total);
      cpu[c].push(ms.cpu);
      if (ms.firstCall !== undefined) firstCall[c].push(ms.firstCall);
    }
    opts.progress?.(`  cold round ${i + 1}/${opts.runs}`);
  }
  const floorOf = (config: ColdConfig) =>
    configs.findIndex((f) =>
      f.entry === "floor" && f.runtime.path === config.runtime.path &&
      (f.codeCache ?? true) === (config.codeCache ?? true)
    );
  return configs.map((config, c) => ({
    ...(config.entry !== "floor" && floorOf(config) >= 0
      ? { overFloorMs: spread(fromStart[c].map((ms, i) => ms - fromStart[floorOf(config)][i])) }
      : {}),
    entry: config.entry,
    runtime: config.runtime.name,
    codeCache: config.codeCache ?? true,
    tools: opts.tools,
    fromRuntimeStart: spread(fromStart[c]),
    spawnToFirstAnswer: spread(total[c]),
    cpuMs: spread(cpu[c]),
    ...(firstCall[c].length > 0 ? { firstToolCallMs: spread(firstCall[c]) } : {}),
  }));
}

/** One `echo` call, checked, timed by the client (send until the answer is read). */
async function timedFirstCall(url: string, key: string): Promise<number> {
  const target = {
    ...mcpTarget(url, "tools/call", key),
    body: mcpBody("tools/call", { name: "echo", arguments: { text: "cold" } }),
  };
  const started = performance.now();
  const answer = await sendOnce(target);
  const elapsed = performance.now() - started;
  if (answer.status !== 200 || rpcMessage(answer.text).result?.content?.[0]?.text !== "cold") {
    throw new Error(`cold start: unexpected tools/call answer ${answer.status} ${answer.text}`);
  }
  return elapsed;
}

function coldModule(stack: Stack, config: ColdConfig): string {
  if (config.entry === "floor") return pathToFileURL(COLD_FLOOR).href;
  if (config.entry === "index.ts") return pathToFileURL(functionEntry(stack.root)).href;
  if (!config.build) throw new Error("cold start of the build: no build given");
  return pathToFileURL(config.build).href;
}

async function coldRun(
  stack: Stack,
  config: ColdConfig,
  opts: { key: string; tools: number; denoDir: string; lingerMs?: number },
): Promise<{ fromStart: number; total: number; cpu: number; firstCall?: number }> {
  const { fn: port } = choosePorts({ fn: undefined });
  const module = coldModule(stack, config);
  const started = performance.now();
  const child = await spawnChild({
    name: "cold",
    cmd: config.runtime.path,
    args: [
      "run",
      ...config.runtime.args,
      "--no-prompt",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      ...(config.codeCache === false ? ["--no-code-cache"] : []),
      // As the stack runs the function and a deploy sends it: the function's deno.json only.
      "--config",
      join(stack.root, "supabase", "functions", "mcp-tools-server", "deno.json"),
      COLD_ENTRY,
    ],
    cwd: stack.root,
    env: {
      ...stack.functionEnv,
      MCP_FUNCTION_PORT: String(port),
      BENCH_COLD_MODULE: module,
      DENO_DIR: opts.denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      NO_COLOR: "1",
    },
    logPath: join(stack.runDir, "logs", `cold-${port}.log`),
    pidDir: join(stack.runDir, "pids"),
  });
  try {
    const url = `http://127.0.0.1:${port}/mcp-tools-server/mcp`;
    const answer = await firstAnswer(url, opts.key, started + 60_000);
    const total = performance.now() - started;
    const cpu = await cpuMs(child.pid);
    const tools = rpcMessage(answer.text).result?.tools?.length;
    if (answer.status !== 200 || tools !== opts.tools) {
      throw new Error(`cold start: unexpected answer ${answer.status} ${answer.text}`);
    }
    const fromStart = Number(answer.headers.get("x-bench-first-answer-ms"));
    if (!Number.isFinite(fromStart) || fromStart <= 0) {
      throw new Error("cold start: no timing header");
    }
    const firstCall = config.entry === "floor" ? undefined : await timedFirstCall(url, opts.key);
    if (opts.lingerMs) await sleep(opts.lingerMs);
    return { fromStart, total, cpu, firstCall };
  } finally {
    await child.stop();
  }
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
