/**
 * Usage events and limits against the real stack: events are written off the response path and
 * none is lost, an outage costs counted drops and never a request; rate limits and quotas answer
 * 429 with the limit's name in both protocol eras, change within the cache TTL, and hold across two
 * function processes sharing one tenant's quota.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import { inProcessApp, lit, MCP_PATH, tenantWithKey, type TestApp } from "../support/fixtures.ts";
import { callTool, listTools, post, rpc } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import { adminCli } from "../support/admin_cli.ts";
import {
  assertLimited,
  callIn,
  leased as leasedOf,
  meta,
  modernHeaders,
  spendSharedQuota,
} from "../support/limits.ts";

const sql = async (query: string) => (await stack.psql(query)).trim();
const TTL = 10_000;

/** A log that keeps its lines, as the function prints them. */
function capturingLog(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    info: (event, fields) => lines.push({ level: "info", event, ...fields }),
    error: (event, fields) => lines.push({ level: "error", event, ...fields }),
  };
}

/**
 * The gateway, seen through a slow or broken network for `record_usage` only: everything else
 * passes straight to the real gateway (so keys still resolve against the real database).
 */
function usageNetwork(mode: { delayMs?: number; status?: number }) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/rpc/record_usage")) {
      if (mode.status) {
        await req.body?.cancel();
        return new Response("{}", { status: mode.status });
      }
      await new Promise((resolve) => setTimeout(resolve, mode.delayMs ?? 0));
    }
    const target = new URL(url.pathname + url.search, stack.info.supabaseUrl);
    const res = await fetch(target, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

const usageConfig = { usageBatchSize: 10, usageFlushMs: 50, tenantCacheTtlMs: TTL };

Deno.test("usage: every tool call is one event, written in batches; none lost", async () => {
  const fn = inProcessApp({ config: usageConfig });
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const calls = [
    ...Array.from({ length: 40 }, (_, i) => callTool("echo", { text: `hi ${i}` })),
    ...Array.from({ length: 15 }, () => callTool("tenant_info")),
    callTool("echo", { text: 42 }), // wrong argument type: a tool error the model can fix
  ];
  const replies = await Promise.all(calls.map((call) => post(fn, call, { key: t.key })));
  ok(replies.every((r) => r.status === 200));
  await fn.background.settled();
  equal(fn.metrics.usageWritten, 56);
  equal(fn.metrics.usageDropped, 0);
  // Batched by count: 56 events in batches of at most 10.
  ok(
    fn.metrics.usageWrites >= 6 && fn.metrics.usageWrites <= 10,
    `${fn.metrics.usageWrites} writes`,
  );
  // … and by time: a partial batch goes when its timer fires.
  await post(fn, callTool("echo", { text: "alone" }), { key: t.key });
  equal(fn.metrics.usageWritten, 56);
  for (let waited = 0; fn.metrics.usageWritten < 57 && waited < 5_000; waited += 25) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  equal(fn.metrics.usageWritten, 57, "written after USAGE_FLUSH_MS without waiting for a batch");
  await fn.background.settled();
  const rows = JSON.parse(
    await sql(`select jsonb_agg(jsonb_build_object('tool', tool,
      'outcome', outcome, 'n', n, 'keys', keys, 'sized', sized) order by tool, outcome)
    from (select tool, outcome, count(*) n, count(distinct key_id) keys,
                 bool_and(arg_bytes > 0 and result_bytes > 0 and latency_ms >= 0) sized
          from public.usage_events where tenant_id = '${t.id}' group by 1, 2) g`),
  );
  deepStrictEqual(rows, [
    { tool: "echo", outcome: "ok", n: 41, keys: 1, sized: true },
    { tool: "echo", outcome: "tool_error", n: 1, keys: 1, sized: true },
    { tool: "tenant_info", outcome: "ok", n: 15, keys: 1, sized: true },
  ]);
  equal(
    await sql(`select key_id from public.usage_events where tenant_id = '${t.id}' limit 1`),
    t.key.slice(5, 17),
  );
});

Deno.test("usage: a request's latency does not include the write", async () => {
  const slow = usageNetwork({ delayMs: 1_500 });
  try {
    const fn = inProcessApp({ supabaseUrl: slow.url, config: { ...usageConfig, usageFlushMs: 0 } });
    const t = await tenantWithKey(["echo"]);
    await post(fn, listTools(), { key: t.key }); // the key is looked up and cached
    const started = performance.now();
    const reply = await post(fn, callTool("echo", { text: "fast" }), { key: t.key });
    const took = performance.now() - started;
    equal(reply.status, 200);
    ok(took < 1_000, `the call took ${took} ms: it waited for the usage write`);
    equal(await sql(`select count(*) from public.usage_events where tenant_id = '${t.id}'`), "0");
    await fn.background.settled();
    equal(await sql(`select count(*) from public.usage_events where tenant_id = '${t.id}'`), "1");
  } finally {
    await slow.close();
  }
});

Deno.test("usage: with the store down the queue stays bounded; drops are counted and logged", async () => {
  const down = usageNetwork({ status: 503 });
  try {
    const log = capturingLog();
    const fn = inProcessApp({
      supabaseUrl: down.url,
      log,
      config: { usageBatchSize: 100, usageFlushMs: 1_000, usageQueueMax: 5, usageFlushRetries: 1 },
    });
    const t = await tenantWithKey(["echo"]);
    for (let i = 0; i < 8; i++) {
      equal((await post(fn, callTool("echo", { text: "x" }), { key: t.key })).status, 200);
    }
    equal(fn.metrics.usageDropped, 3, "the queue holds 5; three more are dropped at once");
    await fn.background.settled();
    equal(fn.metrics.usageDropped, 8, "after the retries the held five are dropped too");
    equal(fn.metrics.usageWriteFailures, 2, "one write and one retry");
    const dropped = log.lines.find((line) => line.event === "usage_events_dropped");
    ok(dropped, "the drop is logged");
    equal(dropped.count, 8);
  } finally {
    await down.close();
  }
});

// --- Limits --------------------------------------------------------------------------------

Deno.test("limits: a key's requests per minute; 429 RATE_LIMITED names it, in both eras", async () => {
  const fn = inProcessApp({ config: { tenantCacheTtlMs: TTL } });
  const t = await tenantWithKey(["echo"]);
  const keyId = t.key.slice(5, 17);
  await sql(`update public.api_keys set requests_per_minute = 40 where key_id = ${lit(keyId)}`);
  const statuses = [];
  for (let i = 0; i < 40; i++) {
    statuses.push((await callIn(i % 2 ? "modern" : "legacy", fn, t.key)).status);
  }
  deepStrictEqual(new Set(statuses), new Set([200]));
  // Leases of at most a tenth of the limit: about 10 for 40 requests, plus the first (discovery).
  ok(fn.metrics.limiterLeases <= 12, `leases: ${fn.metrics.limiterLeases} for 40 requests`);
  const legacy = await callIn("legacy", fn, t.key);
  const modern = await callIn("modern", fn, t.key);
  assertLimited(legacy, "RATE_LIMITED", "key.requests_per_minute");
  assertLimited(modern, "RATE_LIMITED", "key.requests_per_minute");
  equal(JSON.parse(legacy.text).error, JSON.parse(modern.text).error, "the same answer");
  // Refusals are decided locally: no lease per refused request.
  const leases = fn.metrics.limiterLeases;
  await post(fn, listTools(), { key: t.key });
  equal(fn.metrics.limiterLeases, leases);
  // Another key of the same tenant has its own allowance.
  const other = await sql(`select public.issue_api_key(${lit(t.slug)}, 'other') ->> 'key'`);
  equal((await post(fn, listTools(), { key: other })).status, 200);
  await fn.background.settled(); // leases asked ahead of need
});

Deno.test("limits: a tenant's tool calls per day, both eras; raised, it applies within the TTL", async () => {
  const fn = inProcessApp({ config: { tenantCacheTtlMs: TTL } });
  const t = await tenantWithKey(["echo"]);
  await sql(`update public.tenants set calls_per_day = 3 where id = '${t.id}'`);
  for (let i = 0; i < 3; i++) equal((await callIn("legacy", fn, t.key)).status, 200);
  // tools/list is a request, not a tool call: the quota does not apply to it.
  equal((await post(fn, listTools(), { key: t.key })).status, 200);
  assertLimited(await callIn("legacy", fn, t.key), "QUOTA_EXCEEDED", "tenant.calls_per_day");
  assertLimited(await callIn("modern", fn, t.key), "QUOTA_EXCEEDED", "tenant.calls_per_day");
  equal(
    await sql(`select leased from public.usage_counters
      where subject = 'tenant' and subject_id = '${t.id}' and limit_name = 'calls_per_day'`),
    "3",
  );

  await sql(`update public.tenants set calls_per_day = 10 where id = '${t.id}'`);
  fn.clock.advance(TTL + 1);
  equal((await callIn("modern", fn, t.key)).status, 200, "the raised limit applies");
  await fn.background.settled();
});

Deno.test("limits: two function processes share one tenant's quota; it holds", async () => {
  const LIMIT = 30;
  const BATCH = 4;
  const env = { LIMIT_LEASE_BATCH: String(BATCH), USAGE_FLUSH_MS: "100" };
  const processes = await Promise.all([stack.startFunction(env), stack.startFunction(env)]);
  try {
    const t = await tenantWithKey(["echo"]);
    await sql(`update public.tenants set calls_per_day = ${LIMIT} where id = '${t.id}'`);
    const targets = processes.map((p) => `${p.url}${MCP_PATH}`);
    const admitted = await spendSharedQuota(targets, t.key, {
      limit: LIMIT,
      batch: BATCH,
      limitName: "tenant.calls_per_day",
    });
    const leased = await leasedOf("tenant", t.id, "calls_per_day");
    ok(leased <= LIMIT && leased >= admitted, `leased ${leased}, admitted ${admitted}`);

    // Both processes' usage events arrive: one per admitted call, from two isolates.
    const deadline = Date.now() + 10_000;
    let row = "";
    while (Date.now() < deadline) {
      row = await sql(`select count(*) || ' ' || count(distinct isolate)
        from public.usage_events where tenant_id = '${t.id}'`);
      if (row === `${admitted} 2`) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    equal(row, `${admitted} 2`);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
});

// --- Log, readiness, operator figures -----------------------------------------------------------

Deno.test("request log: one line per request, with who, what and how it went; no secret", async () => {
  const log = capturingLog();
  const fn = inProcessApp({ log, config: { tenantCacheTtlMs: TTL } });
  const t = await tenantWithKey(["echo"]);
  await post(fn, callTool("echo", { text: "x" }), { key: t.key });
  await post(
    fn,
    rpc("tools/list", { _meta: meta }),
    { key: t.key, headers: modernHeaders("tools/list") },
  );
  await post(fn, listTools(), { key: `mcpk_${"0".repeat(12)}_${"0".repeat(70)}` });
  const lines = log.lines.filter((line) => line.event === "request");
  equal(lines.length, 3);
  const [call, list, refused] = lines;
  const keyPrefix = t.key.slice(0, 17);
  deepStrictEqual(
    { ...call, ms: 0, isolate: "" },
    {
      level: "info",
      event: "request",
      tenant: t.slug,
      credential: "api_key",
      key: keyPrefix,
      user: null,
      era: "legacy",
      http: "POST",
      method: "tools/call",
      tool: "echo",
      status: 200,
      code: null,
      rpc_error: null,
      ms: 0,
      key_cache: "miss",
      isolate: "",
    },
  );
  equal(typeof call.ms, "number");
  match(String(call.isolate), /^local-/);
  equal(list.era, "modern");
  equal(list.key_cache, "hit");
  equal(refused.status, 401);
  equal(refused.code, "INVALID_API_KEY");
  equal(refused.tenant, null);
  const text = JSON.stringify(log.lines);
  ok(!text.includes(t.key.slice(18)), "no key secret in the log");
});

Deno.test("readiness: /ready says whether the database answers; /health stays liveness", async () => {
  const base = (fn: TestApp) => fn.url.replace(/\/mcp$/, "");
  const up = inProcessApp();
  const ready = await up.fetch(`${base(up)}/ready`);
  equal(ready.status, 200);
  deepStrictEqual(await ready.json(), { status: "ready", store: "reachable" });

  const down = inProcessApp({ supabaseUrl: "http://127.0.0.1:9" });
  const notReady = await down.fetch(`${base(down)}/ready`);
  equal(notReady.status, 503);
  const body = await notReady.json();
  equal(body.code, "STORE_UNAVAILABLE");
  equal(body.store, "unreachable");
  ok(notReady.headers.get("retry-after"));
  equal((await down.fetch(`${base(down)}/health`)).status, 200);
});

Deno.test("operator figures: cache hit rates, lookups, queue, drops and limiter; token only", async () => {
  const fn = inProcessApp({ config: { ...usageConfig, metricsToken: "operator-token" } });
  const t = await tenantWithKey(["echo"]);
  for (let i = 0; i < 4; i++) await post(fn, callTool("echo", { text: "x" }), { key: t.key });
  const url = fn.url.replace(/\/mcp$/, "/metrics");
  equal((await fn.fetch(url)).status, 404, "no token: no such route");
  const res = await fn.fetch(url, { headers: { authorization: "Bearer operator-token" } });
  equal(res.status, 200);
  const figures = await res.json();
  equal(figures.storeLookups, 1);
  equal(figures.keyCacheHitRate, 0.75);
  equal(figures.usageQueued, 4);
  equal(figures.usageDropped, 0);
  ok(figures.limiter && typeof figures.limiter.callers === "number");
  ok(typeof figures.limiterLeases === "number" && typeof figures.serverCacheHitRate === "number");
  await fn.background.settled();
});

// --- Rollups, retention, the admin report ----------------------------------------------------

/** The admin command, with --json as every caller here wants its answer. */
const admin = (args: string[]) => adminCli([...args, "--json"]);

Deno.test("usage: admin report by tool and day; pruning rolls days up first; events append-only", async () => {
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const keyId = t.key.slice(5, 17);
  const event = (ago: string, tool: string, outcome: string, ms: number) =>
    `(now() - interval '${ago}', '${t.id}', '${keyId}', '${tool}', '${outcome}', ${ms}, 10, 20, 'test')`;
  await sql(`insert into public.usage_events
      (at, tenant_id, key_id, tool, outcome, latency_ms, arg_bytes, result_bytes, isolate)
    values ${event("1 minute", "echo", "ok", 5)}, ${event("1 minute", "echo", "ok", 7)},
           ${event("1 minute", "echo", "tool_error", 9)},
           ${event("40 days", "tenant_info", "ok", 3)}, ${
    event("40 days", "tenant_info", "ok", 4)
  }`);

  const byTool = await admin(["usage", t.slug, "--since", "60d", "--by", "tool"]);
  equal(byTool.code, 0);
  deepStrictEqual(
    byTool.json.rows.map((r: Record<string, unknown>) => [r.group_key, r.calls, r.errors]),
    [["echo", 3, 1], ["tenant_info", 2, 0]],
  );
  equal(byTool.json.rows[0].latency_max_ms, 9);
  equal((await admin(["usage", t.slug])).json.rows.length, 1, "default: the last 30 days");

  const pruned = await admin(["usage", "prune", "--days", "30"]);
  equal(pruned.code, 0);
  ok(pruned.json.deleted_events >= 2);
  equal(await sql(`select count(*) from public.usage_events where tenant_id = '${t.id}'`), "3");
  const byDay = await admin(["usage", t.slug, "--since", "60d", "--by", "day"]);
  deepStrictEqual(byDay.json.rows.map((r: Record<string, unknown>) => r.calls), [3, 2]);
  const rolled = await sql(`select calls || ' ' || latency_p50_ms || ' ' || latency_max_ms
    from public.usage_daily_rollup where tenant_id = '${t.id}'`);
  equal(rolled, "2 3 4");

  const refused = await stack.psql(`update public.usage_events set latency_ms = 0
      where tenant_id = '${t.id}'`).then(() => "", (err) => String(err));
  match(refused, /append-only/);
  const badBy = await admin(["usage", t.slug, "--by", "week"]);
  equal(badBy.code, 1);
  match(badBy.json.error, /tool, key, user or day/);
});
