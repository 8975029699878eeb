/**
 * `deno run -A bench/metering.ts [rounds] [seconds]` — what the request log, usage events and
 * limits cost on warm tools/call, over HTTP against the real stack: function processes started
 * alike — without metering, with the log line only, with log and usage events (also called with a
 * key whose tenant has limits, so leases happen) — measured interleaved round by round; the figure is the per-round
 * ratio (median and range). `deno task bench` measures the same variants among all the others;
 * this is the short, focused run. Not part of the test suite.
 */
import { join } from "node:path";
import { startStack } from "../scripts/stack.ts";
import { registerBenchFamily, tenantsWithKeys } from "./setup.ts";
import { round, table } from "./stats.ts";
import { checkVariant, measureThroughput, type Variant } from "./throughput.ts";
import { BENCH_TOOL_NAMES } from "./tools.ts";

const rounds = Number(Deno.args[0] ?? 9);
const durationMs = Number(Deno.args[1] ?? 1) * 1000;
const ENTRY = join(import.meta.dirname!, "function_entry.ts");
const say = (line: string) => console.error(line);

const stack = await startStack({ functionEntry: ENTRY });
try {
  await registerBenchFamily(stack);
  const [key, limitedKey] = await tenantsWithKeys(stack, [BENCH_TOOL_NAMES, BENCH_TOOL_NAMES]);
  await stack.psql(`update public.tenants set requests_per_minute = 1000000000,
      calls_per_day = 1000000000
    where id = (select tenant_id from public.api_keys where key_id = '${
    limitedKey.slice(5, 17)
  }')`);
  const [metered, unmetered, logOnly] = await Promise.all([
    stack.startFunction({}, ENTRY),
    stack.startFunction({ BENCH_METERING: "off" }, ENTRY),
    stack.startFunction({ USAGE_BATCH_SIZE: "0" }, ENTRY),
  ]);
  const at = (url: string) => `${url}/mcp-tools-server/mcp`;
  const variants: Variant[] = [
    { id: "unmetered", label: "(u) no log, usage or limits", url: at(unmetered.url), key },
    { id: "log", label: "(l) log line only", url: at(logOnly.url), key },
    { id: "metered", label: "(m) log + usage events", url: at(metered.url), key },
    { id: "limited", label: "(m) + limits (leases)", url: at(metered.url), key: limitedKey },
  ];
  for (const v of variants) await checkVariant(v);
  const cases = variants.map((variant) => ({
    variant,
    method: "tools/call" as const,
    accept: "json" as const,
  }));
  const { figures } = await measureThroughput(cases, {
    rounds,
    durationMs,
    warmupMs: 300,
    concurrency: 16,
    progress: say,
  });
  const base = figures.find((f) => f.variant === "unmetered")!;
  const rows = figures.map((f) => {
    const ratios = f.roundsRps.map((rps, i) => rps / base.roundsRps[i]).sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)];
    return [
      f.label,
      f.rps,
      f.p50Ms,
      f.p99Ms,
      `${round(median, 3)} (${round(ratios[0], 3)}–${round(ratios.at(-1)!, 3)})`,
    ];
  });
  console.log(
    `\nwarm tools/call, ${rounds} interleaved rounds × ${durationMs / 1000} s, 16 connections`,
  );
  console.log(
    table(["variant", "req/s", "p50 ms", "p99 ms", "× (u) per round: median (range)"], rows),
  );
  const writes = await stack.psql(
    `select count(*) || ' events' from public.usage_events`,
  );
  console.log(`usage events written during the run: ${writes.trim()}`);
} finally {
  await stack.stop();
}
