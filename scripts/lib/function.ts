// The edge function as a plain Deno process on its own port, run as a deploy sends it: with
// the function's own deno.json as its configuration and no lockfile, on the Deno that
// Supabase's edge runtime embeds (FUNCTION_DENO switches it; see functionDeno).

import { join } from "node:path";
import { SERVER_NAME } from "../../supabase/functions/mcp-tools-server/config.ts";
import { StackError } from "./errors.ts";
import { withLogTail } from "./logs.ts";
import { locateNpmTool, type NpmTool } from "./npm_tool.ts";
import { choosePorts } from "./ports.ts";
import { type Child, spawnChild } from "./process.ts";
import { waitForOk } from "./wait.ts";

export const FUNCTION_NAME = SERVER_NAME;
/** Generous: the first run on a clean machine downloads the npm dependencies. */
export const FUNCTION_READY_TIMEOUT_MS = 120_000;

/**
 * The Deno inside Supabase's edge runtime (edge-runtime 1.74.x, which the pinned Supabase CLI
 * runs): what the function must run on. Tooling, tests and the bench stay on current Deno.
 */
export const RUNTIME_DENO_VERSION = "2.1.4";

function denoPackage(version: string): NpmTool {
  return { label: `Deno ${version}`, spec: `deno@${version}`, bin: "@deno/linux-x64-glibc/deno" };
}

/**
 * The Deno binary function processes run on. `setting` (default: the FUNCTION_DENO variable)
 * is a version (installed from npm on first use), "current" (the Deno running this script) or
 * a path to a deno binary; unset means the edge runtime's Deno.
 */
export async function functionDeno(
  root: string,
  setting = Deno.env.get("FUNCTION_DENO"),
  log: (line: string) => void = () => {},
): Promise<string> {
  const value = setting?.trim() || RUNTIME_DENO_VERSION;
  if (value === "current") return Deno.execPath();
  if (value.includes("/")) {
    try {
      Deno.statSync(value);
    } catch {
      throw new StackError(`FUNCTION_DENO=${value}: no such file.`);
    }
    return value;
  }
  if (!/^\d+\.\d+\.\d+$/.test(value)) {
    throw new StackError(
      `FUNCTION_DENO=${value}: expected a Deno version (e.g. ${RUNTIME_DENO_VERSION}), ` +
        `"current" or a path to a deno binary.`,
    );
  }
  return await locateNpmTool(root, denoPackage(value), log);
}

/** `deno --version`'s first line for `binary`, e.g. "deno 2.1.4". */
export async function denoVersion(binary: string): Promise<string> {
  const out = await new Deno.Command(binary, { args: ["--version"], stdin: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")[0].split(" (")[0].trim();
}

export interface FunctionProcess {
  /** http://127.0.0.1:<port>; serves /mcp-tools-server/... directly. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface FunctionSpec {
  root: string;
  /** Script to run instead of the function's index.ts (e.g. the benchmark's entry point). */
  entry?: string;
  /** SUPABASE_URL and friends; MCP_FUNCTION_PORT is added here. */
  env: Record<string, string>;
  port: number;
  logPath: string;
  pidDir: string;
  /** The deno binary to run (see functionDeno); default: the one running this script. */
  deno?: string;
}

export function functionEntry(root: string): string {
  return join(root, "supabase", "functions", FUNCTION_NAME, "index.ts");
}

/**
 * The caller's environment minus SUPABASE_* and MCP_* (a shell set up for a hosted project
 * must not point the local function at it), plus the stack's own variables.
 */
function functionEnvironment(spec: FunctionSpec): Record<string, string> {
  const inherited = Object.entries(Deno.env.toObject())
    .filter(([name]) => !name.startsWith("SUPABASE_") && !name.startsWith("MCP_"));
  return {
    ...Object.fromEntries(inherited),
    ...spec.env,
    MCP_FUNCTION_PORT: String(spec.port),
    DENO_NO_UPDATE_CHECK: "1",
    // Older Denos trust only their bundled roots; the system store also holds a proxy's CA.
    DENO_TLS_CA_STORE: Deno.env.get("DENO_TLS_CA_STORE") ?? "system,mozilla",
    // Output goes to a log file and into error messages: keep it plain text.
    NO_COLOR: "1",
  };
}

export async function spawnFunction(spec: FunctionSpec): Promise<Child> {
  const entry = spec.entry ?? functionEntry(spec.root);
  try {
    await Deno.stat(entry);
  } catch {
    throw new StackError(`Function entry point not found: ${entry}`);
  }
  return spawnChild({
    name: FUNCTION_NAME,
    cmd: spec.deno ?? Deno.execPath(),
    args: [
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      // What a deploy uploads: the function's deno.json as import map, no lockfile (the
      // runtime's Deno refuses the workspace's lockfile version).
      "--config",
      join(spec.root, "supabase", "functions", FUNCTION_NAME, "deno.json"),
      "--no-lock",
      entry,
    ],
    cwd: spec.root,
    env: functionEnvironment(spec),
    clearEnv: true,
    logPath: spec.logPath,
    pidDir: spec.pidDir,
  });
}

export function asFunctionProcess(child: Child, port: number): FunctionProcess {
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.stop() };
}

/** Waits until `healthUrl` answers 200; on failure stops `children` and explains why. */
export async function awaitFunctionHealth(
  healthUrl: string,
  child: Child,
  others: Child[] = [],
  signal?: AbortSignal,
): Promise<void> {
  try {
    await waitForOk(healthUrl, {
      timeoutMs: FUNCTION_READY_TIMEOUT_MS,
      children: [child, ...others],
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new StackError(
      await withLogTail(
        `The function did not become healthy: ${(err as Error).message}`,
        child.logPath,
      ),
    );
  }
}

export interface ExtraFunctionOptions {
  root: string;
  entry?: string;
  deno?: string;
  env: Record<string, string>;
  logDir: string;
  pidDir: string;
}

/** An additional function process on a free port, healthy when this resolves. */
export async function startExtraFunction(opts: ExtraFunctionOptions): Promise<FunctionProcess> {
  const { port } = choosePorts({ port: undefined });
  const child = await spawnFunction({
    root: opts.root,
    entry: opts.entry,
    deno: opts.deno,
    env: opts.env,
    port,
    logPath: join(opts.logDir, `function-${port}.log`),
    pidDir: opts.pidDir,
  });
  try {
    await awaitFunctionHealth(`http://127.0.0.1:${port}/${FUNCTION_NAME}/health`, child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return asFunctionProcess(child, port);
}
