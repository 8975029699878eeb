/**
 * `deno run -A bench/metering.ts [rounds] [seconds]` — what the request log, usage events and
 * limits cost on warm tools/call, over HTTP against the real stack: function processes started
 * alike — without metering, with the log line only, with log and usage events (also called with a
 * key whose tenant has limits, so leases happen; and with a signed-in user's token, without limits
 * and under membership and tenant limits) — measured interleaved round by round; the figure is the
 * per-round ratio (median and range). Beside them, mcp-lite's dispatch alone with and without
 * one log line per request (bench/baselines.ts), for what the line costs where nothing else
 * runs. `deno task bench` measures the same variants among all the others;
 * this is the short, focused run. Not part of the test suite.
 */
import { join } from "node:path";
import { startStack } from "../scripts/stack.ts";
import { startBaseline } from "./baseline_process.ts";
import { edgeRuntimeDeno } from "./cold.ts";
import { ownerToken, registerBenchFamily, tenantsWithKeys } from "./setup.ts";
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
  const user = await ownerToken(stack, key);
  const limitedUser = await ownerToken(
    stack,
    limitedKey,
    "requests_per_minute = 1000000000, calls_per_day = 1000000000",
  );
  const [metered, unmetered, logOnly] = await Promise.all([
    stack.startFunction({}, ENTRY),
    stack.startFunction({ BENCH_METERING: "off" }, ENTRY),
    stack.startFunction({ USAGE_BATCH_SIZE: "0" }, ENTRY),
  ]);
  const at = (url: string) => `${url}/mcp-tools-server/mcp`;
  const variants: Variant[] = [
    {
      id: "unmetered",
      label: "(u) no log, usage or limits",
      url: at(unmetered.url),
      key,
      pid: unmetered.pid,
    },
    { id: "log", label: "(l) log line only", url: at(logOnly.url), key, pid: logOnly.pid },
    { id: "metered", label: "(m) log + usage events", url: at(metered.url), key },
    { id: "limited", label: "(m) + limits (leases)", url: at(metered.url), key: limitedKey },
    { id: "user", label: "(m) user token, no limits", url: at(metered.url), key: user },
    {
      id: "user-limited",
      label: "(m) user + member & tenant limits",
      url: at(metered.url),
      key: limitedUser,
    },
  ].map((v) => ({ pid: metered.pid, ...v }));
  // What the log line alone costs a server that does nothing else: mcp-lite's dispatch, with and
  // without it, on the function's Deno.
  const edge = await edgeRuntimeDeno();
  for (const id of ["dispatch", "dispatch-logged"] as const) {
    variants.push(await startBaseline(stack, id, edge.path));
  }
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
  const spread = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return `${round(median, 3)} (${round(sorted[0], 3)}–${round(sorted.at(-1)!, 3)})`;
  };
  const rows = figures.map((f) => [
    f.label,
    f.rps,
    f.p50Ms,
    f.p99Ms,
    spread(f.roundsRps.map((rps, i) => rps / base.roundsRps[i])),
    f.cpuUs ?? "",
    // Each process's CPU per request, against (u)'s in the same round: steadier than req/s.
    f.roundsCpuUs && base.roundsCpuUs
      ? spread(f.roundsCpuUs.map((us, i) => base.roundsCpuUs![i] / us))
      : "",
  ]);
  console.log(
    `\nwarm tools/call, ${rounds} interleaved rounds × ${durationMs / 1000} s, 16 connections`,
  );
  console.log(
    table([
      "variant",
      "req/s",
      "p50 ms",
      "p99 ms",
      "× (u) req/s per round: median (range)",
      "CPU µs/req",
      "× (u) by CPU per request",
    ], rows),
  );
  // The limits' own share for each credential: limited ÷ the same credential unlimited, per round.
  for (
    const [label, over, under] of [["key", "limited", "metered"], ["user", "user-limited", "user"]]
  ) {
    const a = figures.find((f) => f.variant === over)!;
    const b = figures.find((f) => f.variant === under)!;
    const ratios = a.roundsRps.map((rps, i) => rps / b.roundsRps[i]).sort((x, y) => x - y);
    console.log(
      `limits, ${label} caller: × ${round(ratios[Math.floor(ratios.length / 2)], 3)} ` +
        `(${round(ratios[0], 3)}–${round(ratios.at(-1)!, 3)}) of the same caller without limits`,
    );
  }
  const floor = figures.find((f) => f.variant === "dispatch-edge")!;
  const floorLogged = figures.find((f) => f.variant === "dispatch-logged-edge")!;
  console.log(
    `log line on mcp-lite's dispatch alone: × ${
      spread(floorLogged.roundsRps.map((rps, i) => rps / floor.roundsRps[i]))
    } req/s, × ${
      floor.roundsCpuUs && floorLogged.roundsCpuUs
        ? spread(floorLogged.roundsCpuUs.map((us, i) => floor.roundsCpuUs![i] / us))
        : "?"
    } by CPU per request (${floor.cpuUs} → ${floorLogged.cpuUs} µs)`,
  );
  const writes = await stack.psql(
    `select count(*) || ' events' from public.usage_events`,
  );
  console.log(`usage events written during the run: ${writes.trim()}`);
} finally {
  await stack.stop();
}
