// `deno task bench:cold [--runs N] [--out FILE]`: the cold-start part of the bench alone (the
// full bench takes minutes on a loaded machine). Starts a throwaway stack, builds the function as
// `deno task build` does, and starts fresh processes of the runtime's floor, index.ts and the
// build on the edge runtime's Deno and on the bench's, taking turns; each answers one tools/list
// with a key it has never seen. Writes bench/results/cold.json (default).

import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildFunction } from "../scripts/build.ts";
import { startStack } from "../scripts/stack.ts";
import { coldConfigs, coldProcesses } from "./cold.ts";
import { coldGoals, coldTable, machine } from "./report.ts";
import { tenantsWithKeys } from "./setup.ts";

const ROOT = join(import.meta.dirname!, "..");
const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" }, out: { type: "string" } },
});
const runs = Number(values.runs ?? 20);
const out = values.out ?? join(ROOT, "bench", "results", "cold.json");
const say = (line: string) => console.error(line);

/** The machine's load while measuring: other work on it slows every configuration alike. */
async function loadAverage(): Promise<string> {
  return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
}

const started = performance.now();
say("starting a throwaway stack…");
const stack = await startStack();
try {
  const [key] = await tenantsWithKeys(stack, [["echo", "tenant_info"]]);
  const build = await buildFunction(join(stack.runDir, "build"));
  const loadBefore = await loadAverage();
  say(`cold starts (${runs} per configuration), load average ${loadBefore}…`);
  const processes = await coldProcesses(stack, await coldConfigs(build), {
    key,
    tools: 2,
    runs,
    progress: say,
  });
  const report = {
    date: new Date().toISOString(),
    machine: await machine(),
    command: `deno task bench:cold --runs ${runs}`,
    loadAverage: { before: loadBefore, after: await loadAverage() },
    processes,
    budget: coldGoals(processes),
    seconds: Math.round((performance.now() - started) / 1000),
  };
  console.log("cold start, first tools/list with a new key, ms (p50 / p95 / max)");
  console.log(coldTable(processes));
  console.log(
    `load average before/after: ${report.loadAverage.before} / ${report.loadAverage.after}`,
  );
  for (const goal of report.budget) {
    console.log(`${goal.met ? "met" : "missed"}: ${goal.goal} — ${goal.measured}`);
  }
  await Deno.mkdir(join(out, ".."), { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(report, null, 2) + "\n");
  say(`wrote ${out}`);
} finally {
  await stack.stop();
}
