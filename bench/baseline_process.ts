/** Starting a baseline server (bench/baselines.ts) as a process of its own, for the benches. */
import { join } from "node:path";
import { spawnChild } from "../scripts/lib/process.ts";
import { choosePorts } from "../scripts/lib/ports.ts";
import { waitForOk } from "../scripts/lib/wait.ts";
import type { Stack } from "../scripts/stack.ts";
import type { Baseline } from "./baselines.ts";
import type { Variant } from "./throughput.ts";

const ROOT = join(import.meta.dirname!, "..");

export const BASELINE_LABELS: Record<Baseline, string> = {
  "ceiling": "(e) plain Deno.serve, fixed answer",
  "lite-shared": "(b) bare mcp-lite, one server",
  "lite-rebuild": "(c) mcp-lite rebuilt per request",
  "lite-rebuild-memo": "(c') rebuilt per request, schemas memoised",
  "sdk-v2": "(d) SDK v2 createMcpHandler",
  "dispatch": "(f) mcp-lite's dispatch alone, no transport",
  "dispatch-logged": "(f') (f) + one request log line",
};

/**
 * A baseline server on the bench's Deno, or on `edge` (the Deno the edge runtime embeds, with the
 * function's import map and no lockfile, as the function itself runs there).
 */
export async function startBaseline(
  stack: Stack,
  id: Baseline,
  edge?: string,
): Promise<Variant & { base: string }> {
  const { port } = choosePorts({ port: undefined });
  const functionConfig = join(ROOT, "supabase", "functions", "mcp-tools-server", "deno.json");
  const child = await spawnChild({
    name: edge ? `${id}-edge` : id,
    cmd: edge ?? Deno.execPath(),
    args: [
      "run",
      "-A",
      ...(edge ? ["--no-lock", "--config", functionConfig] : []),
      join(ROOT, "bench", "baselines.ts"),
      id,
      String(port),
    ],
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    logPath: join(stack.runDir, "logs", `${id}.log`),
    pidDir: join(stack.runDir, "pids"),
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForOk(`${base}/health`, { timeoutMs: 60_000, children: [child] });
  // The SDK refuses clients that don't accept SSE (406), so it is sent what spec clients send.
  const accept = id === "sdk-v2" ? "sse" as const : undefined;
  return {
    id: edge ? `${id}-edge` : id,
    label: edge ? `${BASELINE_LABELS[id]} (edge runtime's Deno)` : BASELINE_LABELS[id],
    url: `${base}/mcp`,
    base,
    accept,
    pid: child.pid,
  };
}
