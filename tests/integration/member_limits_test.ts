/**
 * Limits on a user's membership, against the real stack: a signed-in person is under their
 * membership's limits and their tenant's, refused with 429 naming the membership's limit in both
 * protocol eras while other members go on; a changed limit applies within the cache TTL; a daily
 * quota holds across two function processes; usage is reported per user, before and after pruning.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import { adminCli } from "../support/admin_cli.ts";
import { inProcessApp, lit, MCP_PATH, tenantWithKey } from "../support/fixtures.ts";
import { listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import { assertLimited, callIn, leased as leasedOf, spendSharedQuota } from "../support/limits.ts";
import { addMember, createUser, signIn, type TestUser, userAuthConfig } from "../support/users.ts";

const sql = async (query: string) => (await stack.psql(query)).trim();
const TTL = 10_000;
const app = (config = {}) =>
  inProcessApp({ config: { tenantCacheTtlMs: TTL, ...userAuthConfig(), ...config } });

/** A tenant with echo, a key, and two signed-in admins of it. */
async function tenantWithUsers() {
  const t = await tenantWithKey(["echo"]);
  const users: (TestUser & { token: string })[] = [];
  for (const name of ["ann", "bob"]) {
    const user = await createUser(name);
    await addMember(t.slug, user, "admin");
    users.push({ ...user, token: await signIn(user) });
  }
  return { ...t, ann: users[0], bob: users[1] };
}

const setMember = (tenantId: string, user: TestUser, set: string) =>
  sql(`update public.tenant_members set ${set}
    where tenant_id = '${tenantId}' and user_id = '${user.id}'`);

Deno.test("member limits: requests per minute; 429 RATE_LIMITED names the user's membership in both eras, others go on", async () => {
  const lines: Record<string, unknown>[] = [];
  const log: Logger = {
    info: (event, fields) => lines.push({ event, ...fields }),
    error: (event, fields) => lines.push({ event, ...fields }),
  };
  const fn = inProcessApp({ log, config: { tenantCacheTtlMs: TTL, ...userAuthConfig() } });
  const t = await tenantWithUsers();
  await setMember(t.id, t.ann, "requests_per_minute = 20");
  for (let i = 0; i < 20; i++) {
    equal((await callIn(i % 2 ? "modern" : "legacy", fn, t.ann.token)).status, 200, `call ${i}`);
  }
  const legacy = await callIn("legacy", fn, t.ann.token);
  const modern = await callIn("modern", fn, t.ann.token);
  const message = assertLimited(legacy, "RATE_LIMITED", "member.requests_per_minute");
  assertLimited(modern, "RATE_LIMITED", "member.requests_per_minute");
  equal(JSON.parse(modern.text).error, message, "the same answer in both eras");
  match(message, new RegExp(`user ${t.ann.id} in tenant "${t.slug}"`));
  match(message, /20 requests per minute/);
  // Any request counts, not only tool calls.
  assertLimited(
    await post(fn, listTools(), { key: t.ann.token }),
    "RATE_LIMITED",
    "member.requests_per_minute",
  );

  // The request log says who was refused and why, never with the token.
  const refusals = lines.filter((line) => line.event === "request" && line.status === 429);
  equal(refusals.length, 3);
  deepStrictEqual(
    [refusals[0].tenant, refusals[0].credential, refusals[0].user, refusals[0].key],
    [t.slug, "user", t.ann.id, null],
  );
  equal(refusals[0].code, "RATE_LIMITED");
  ok(!JSON.stringify(lines).includes(t.ann.token.split(".")[2]), "no token in the log");

  // Another member of the same tenant, and a key of it, have their own allowance.
  for (let i = 0; i < 25; i++) equal((await callIn("legacy", fn, t.bob.token)).status, 200);
  equal((await callIn("modern", fn, t.key)).status, 200);
  // Counted in the database per membership, never beyond the limit.
  equal(await leasedOf("member", `${t.id}/${t.ann.id}`, "requests_per_minute"), 20);
  await fn.background.settled();
});

Deno.test("member limits: a user is under their membership's quota AND the tenant's", async () => {
  const fn = app();
  const t = await tenantWithUsers();
  // The membership's cap is the lower: it refuses, naming the membership.
  await setMember(t.id, t.ann, "calls_per_day = 3");
  await sql(`update public.tenants set calls_per_day = 5 where id = '${t.id}'`);
  for (let i = 0; i < 3; i++) equal((await callIn("legacy", fn, t.ann.token)).status, 200);
  // tools/list is a request, not a tool call: quotas do not apply to it.
  equal((await post(fn, listTools(), { key: t.ann.token })).status, 200);
  assertLimited(await callIn("legacy", fn, t.ann.token), "QUOTA_EXCEEDED", "member.calls_per_day");
  assertLimited(await callIn("modern", fn, t.ann.token), "QUOTA_EXCEEDED", "member.calls_per_day");
  // Bob has no cap of his own, but shares the tenant's: 2 left of its 5, then the tenant's refusal.
  equal((await callIn("legacy", fn, t.bob.token)).status, 200);
  equal((await callIn("modern", fn, t.bob.token)).status, 200);
  assertLimited(await callIn("legacy", fn, t.bob.token), "QUOTA_EXCEEDED", "tenant.calls_per_day");
  assertLimited(await callIn("modern", fn, t.bob.token), "QUOTA_EXCEEDED", "tenant.calls_per_day");
  // A refused call spent nothing: the tenant's counter stops at its limit, Ann's at hers.
  equal(
    await sql(`select string_agg(subject || ' ' || leased, ', ' order by subject)
      from public.usage_counters where limit_name = 'calls_per_day'
        and subject_id in ('${t.id}', '${t.id}/${t.ann.id}', '${t.id}/${t.bob.id}')`),
    "member 3, tenant 5",
  );
  await fn.background.settled();
});

Deno.test("member limits: set and cleared with the admin CLI; a change applies within the TTL", async () => {
  const fn = app();
  const t = await tenantWithUsers();
  const set = await adminCli([
    "member",
    "limits",
    t.slug,
    t.ann.email,
    "--calls-per-day",
    "2",
    "--requests-per-minute",
    "100",
    "--json",
  ]);
  equal(set.code, 0, set.stderr);
  deepStrictEqual(
    [
      set.json.email,
      set.json.requests_per_minute,
      set.json.calls_per_day,
      set.json.calls_per_month,
    ],
    [t.ann.email, 100, 2, null],
  );
  for (let i = 0; i < 2; i++) equal((await callIn("legacy", fn, t.ann.token)).status, 200);
  assertLimited(await callIn("modern", fn, t.ann.token), "QUOTA_EXCEEDED", "member.calls_per_day");

  // Cleared (a limit not given keeps its value), it applies once the limits are read again.
  const cleared = await adminCli(["member", "limits", t.slug, t.ann.id, "--calls-per-day", "none"]);
  equal(cleared.code, 0, cleared.stderr);
  match(cleared.stdout, /100\/min/);
  ok(!cleared.stdout.includes("calls/day"), cleared.stdout);
  fn.clock.advance(TTL + 1);
  equal((await callIn("modern", fn, t.ann.token)).status, 200, "the cleared quota applies");

  // Lowered, it applies within the TTL too: 2 of today's 3 are used (the call made while the quota
  // was cleared counted against no quota of Ann's), so one more passes.
  await adminCli(["member", "limits", t.slug, t.ann.email, "--calls-per-day", "3"]);
  fn.clock.advance(TTL + 1);
  equal((await callIn("modern", fn, t.ann.token)).status, 200);
  assertLimited(await callIn("legacy", fn, t.ann.token), "QUOTA_EXCEEDED", "member.calls_per_day");

  // The list shows them; bad values and non-members are refused with a reason.
  const listed = await adminCli(["member", "list", t.slug, "--json"]);
  const ann = listed.json.find((m: { user_id: string }) => m.user_id === t.ann.id);
  deepStrictEqual([ann.requests_per_minute, ann.calls_per_day], [100, 3]);
  const zero = await adminCli(["member", "limits", t.slug, t.ann.email, "--calls-per-day", "0"]);
  equal(zero.code, 1);
  match(zero.stderr, /--calls-per-day must be a whole number ≥ 1, or none/);
  const stranger = await createUser("stranger");
  const notMember = await adminCli([
    "member",
    "limits",
    t.slug,
    stranger.email,
    "--calls-per-day",
    "5",
  ]);
  equal(notMember.code, 1);
  match(notMember.stderr, /is not a member of tenant/);
  // The SQL function itself refuses what the CLI never sends, saying what is valid.
  const call = (limits: string) =>
    sql(`select public.set_member_limits(${lit(t.slug)}, ${lit(t.ann.id)}, '${limits}')`)
      .then(() => "", (err) => String(err));
  match(await call('{"calls_per_week": 5}'), /Unknown limit\(s\): calls_per_week/);
  match(await call('{"calls_per_day": "5"}'), /calls_per_day must be a whole number or null/);
  match(await call('{"calls_per_day": 2.5}'), /calls_per_day must be a whole number or null/);
  match(await call("[]"), /must be a JSON object/);
  // In the dashboard, a bad value is refused by a named constraint.
  const refused = await setMember(t.id, t.ann, "requests_per_minute = 0").then(
    () => "",
    (err) => String(err),
  );
  match(refused, /tenant_members_requests_per_minute_positive/);
  await fn.background.settled();
});

Deno.test("member limits: two function processes share one member's daily quota; it holds", async () => {
  const LIMIT = 30;
  const BATCH = 4;
  const env = { LIMIT_LEASE_BATCH: String(BATCH), USAGE_FLUSH_MS: "100" };
  const processes = await Promise.all([stack.startFunction(env), stack.startFunction(env)]);
  try {
    const t = await tenantWithUsers();
    await setMember(t.id, t.ann, `calls_per_day = ${LIMIT}`);
    const targets = processes.map((p) => `${p.url}${MCP_PATH}`);
    const admitted = await spendSharedQuota(targets, t.ann.token, {
      limit: LIMIT,
      batch: BATCH,
      limitName: "member.calls_per_day",
    });
    const leased = await leasedOf("member", `${t.id}/${t.ann.id}`, "calls_per_day");
    ok(leased <= LIMIT && leased >= admitted, `leased ${leased}, admitted ${admitted}`);
    // The other member of the tenant is not held back by Ann's quota, in either process.
    for (const target of targets) equal((await callIn("legacy", target, t.bob.token)).status, 200);

    // Both processes' usage events arrive, attributed to the user: one per admitted call.
    const deadline = Date.now() + 10_000;
    let row = "";
    while (Date.now() < deadline) {
      row = await sql(`select count(*) || ' ' || count(distinct isolate)
        from public.usage_events where tenant_id = '${t.id}' and user_id = '${t.ann.id}'`);
      if (row === `${admitted} 2`) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    equal(row, `${admitted} 2`);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
});

Deno.test("member usage: the report by user names each user; pruning keeps users in the rollup", async () => {
  const fn = app({ usageBatchSize: 10, usageFlushMs: 50 });
  const t = await tenantWithUsers();
  for (let i = 0; i < 4; i++) equal((await callIn("legacy", fn, t.ann.token)).status, 200);
  equal((await callIn("modern", fn, t.bob.token)).status, 200);
  equal((await callIn("legacy", fn, t.key)).status, 200);
  await fn.background.settled();
  // An older day of Bob's, to be rolled up.
  await sql(`insert into public.usage_events
      (at, tenant_id, user_id, tool, outcome, latency_ms, arg_bytes, result_bytes, isolate)
    values (now() - interval '40 days', '${t.id}', '${t.bob.id}', 'echo', 'ok', 4, 10, 20, 'test'),
           (now() - interval '40 days', '${t.id}', '${t.bob.id}', 'echo', 'tool_error', 6, 10, 20,
            'test')`);

  const rows = async () => {
    const report = await adminCli(["usage", t.slug, "--since", "60d", "--by", "user", "--json"]);
    equal(report.code, 0, report.stderr);
    return report.json.rows.map((r: Record<string, unknown>) => [r.group_key, r.email, r.calls]);
  };
  const expected = [
    [t.ann.id, t.ann.email, 4],
    [t.bob.id, t.bob.email, 3],
    ["", undefined, 1], // the key's call
  ];
  deepStrictEqual(await rows(), expected);
  const text = await adminCli(["usage", t.slug, "--by", "user"]);
  match(text.stdout, new RegExp(`${t.ann.email.replace(/[.+-]/g, "\\$&")}\\s+4 calls`));
  match(text.stdout, /\(API keys\)\s+1 calls/);

  equal((await adminCli(["usage", "prune", "--days", "30"])).code, 0);
  equal(
    await sql(`select user_id || ' ' || calls || ' ' || errors from public.usage_daily_rollup
      where tenant_id = '${t.id}'`),
    `${t.bob.id} 2 1`,
  );
  deepStrictEqual(await rows(), expected, "the same report from the rollup");
  // The dashboard's daily view carries the user beside the key.
  equal(
    await sql(`select string_agg(key_id || '|' || user_id || '|' || calls, ','
        order by calls, user_id)
      from public.usage_daily where tenant = ${lit(t.slug)}
        and day = (now() at time zone 'UTC')::date`),
    `${t.key.slice(5, 17)}||1,|${t.bob.id}|1,|${t.ann.id}|4`,
  );
});
