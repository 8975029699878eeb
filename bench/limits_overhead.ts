/**
 * What rate limits and quotas cost per warm tools/call, for a key and for a signed-in user, in
 * process (no HTTP) against the real stack: leases go to Postgres through PostgREST, memberships
 * are read from the database. Four variants, interleaved round by round in rotated order:
 *
 *   key                 a key whose key and tenant have no limits (one lookup per TTL, no tokens)
 *   key + limits        a key with key and tenant limits (requests per minute, calls per day)
 *   user                an owner's access token, no membership or tenant limits
 *   user + limits       an owner's token under membership and tenant limits
 *
 * Limits are high enough never to refuse, so every request spends tokens and leases happen in the
 * background as in production. Usage events are off (their cost is bench/metering*.ts's). Reported
 * as µs per request (median, range) and as limited ÷ the same caller without limits per round.
 * Then the limiter alone: ns per `admit` of a request and a tool call, answered from local tokens
 * (the per-request share; leases, once per batch, are the database's and the background's).
 *
 *   deno run -A bench/limits_overhead.ts [iterations]
 */
import { jwksJson } from "../scripts/lib/signing_key.ts";
import { type Stack, startStack } from "../scripts/stack.ts";
import { composeApp } from "../supabase/functions/mcp-tools-server/compose.ts";
import { loadConfig } from "../supabase/functions/mcp-tools-server/config.ts";
import { silentLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import {
  type LimitedCaller,
  Limiter,
} from "../supabase/functions/mcp-tools-server/data/limiter.ts";
import { supabaseRpc } from "../supabase/functions/mcp-tools-server/data/rpc.ts";
import { supabaseClient } from "../supabase/functions/mcp-tools-server/data/supabase_client.ts";
import { createBackground } from "../supabase/functions/mcp-tools-server/lib/background.ts";
import { systemClock } from "../supabase/functions/mcp-tools-server/lib/clock.ts";
import { createMetrics } from "../supabase/functions/mcp-tools-server/lib/metrics.ts";
import { FAMILIES } from "../supabase/functions/mcp-tools-server/tools/registry.ts";
import { ownerToken, registerBenchFamily, tenantsWithKeys } from "./setup.ts";
import { BENCH_CALL, BENCH_CALL_TOTAL, BENCH_TOOL_NAMES, benchTools } from "./tools.ts";

const iterations = Number(Deno.args[0] ?? 3_000);
const ROUNDS = 7;
const LIMITS = "requests_per_minute = 1000000000, calls_per_day = 1000000000";

/** The limiter alone, against the stack's database: ns per admitted request and tool call. */
async function admitBench(stack: Stack, credentials: Record<string, string>) {
  const background = createBackground();
  const limiter = new Limiter({
    rpc: supabaseRpc(supabaseClient({ url: stack.supabaseUrl, key: stack.serviceRoleKey }, 5_000)),
    clock: systemClock,
    metrics: createMetrics(),
    log: silentLogger,
    // Leases large enough that the loop (millions of admits a second, far beyond any caller) runs on
    // local tokens: what is measured is the per-request path, not how fast Postgres hands out.
    batch: 10_000_000,
    ttlMs: 3_600_000,
    failOpenMs: 1_000,
    background,
  });
  const tenantOf = async (key: string) => ({
    id: (await stack.psql(
      `select tenant_id from public.api_keys where key_id = '${key.slice(5, 17)}'`,
    )).trim(),
    slug: "bench",
  });
  const subOf = (token: string) => JSON.parse(atob(token.split(".")[1])).sub as string;
  // Shaped as the authenticators make them: a key caller, and a user caller (fresh per request).
  const callers: Array<[string, () => LimitedCaller]> = [];
  for (
    const [name, credential, keyOf] of [
      ["key", credentials.key, credentials.key],
      ["key + limits", credentials.limitedKey, credentials.limitedKey],
      ["user", credentials.user, credentials.key],
      ["user + limits", credentials.limitedUser, credentials.limitedKey],
    ]
  ) {
    const tenant = await tenantOf(keyOf);
    if (name.startsWith("key")) {
      const caller = { tenant, keyId: credential.slice(5, 17), keyPrefix: credential.slice(0, 17) };
      callers.push([name, () => caller]);
    } else {
      const userId = subOf(credential);
      callers.push([name, () => ({ tenant, userId, label: `user:${userId}` })]);
    }
  }
  const N = 200_000;
  const run = async (make: () => LimitedCaller) => {
    let waited = 0;
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      const caller = make();
      const a = limiter.admit(caller, "request");
      if (a) {
        waited++;
        await a;
      }
      const b = limiter.admit(caller, "call");
      if (b) {
        waited++;
        await b;
      }
    }
    return { ns: ((performance.now() - started) * 1e6) / N, waited };
  };
  for (const [, make] of callers) await run(make); // warm-up, first leases
  const got: Record<string, number[]> = {};
  const waits: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of callers.map((_, i) => callers[(i + round) % callers.length])) {
      const { ns, waited } = await run(make);
      (got[name] ??= []).push(ns);
      waits[name] = (waits[name] ?? 0) + waited;
    }
  }
  await background.settled();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`\nlimiter.admit alone (request + tool call), ns, ${ROUNDS} rounds × ${N}`);
  for (const [name] of callers) {
    console.log(
      `${name.padEnd(14)} ${median(got[name]).toFixed(0).padStart(6)} ns ` +
        `(${Math.min(...got[name]).toFixed(0)}–${Math.max(...got[name]).toFixed(0)}), ` +
        `waited for a lease ${waits[name]} times`,
    );
  }
}

const stack = await startStack({});
try {
  await registerBenchFamily(stack);
  const [key, limitedKey] = await tenantsWithKeys(stack, [BENCH_TOOL_NAMES, BENCH_TOOL_NAMES]);
  await stack.psql(`update public.tenants set ${LIMITS}
      where id = (select tenant_id from public.api_keys where key_id = '${
    limitedKey.slice(5, 17)
  }');
    update public.api_keys set ${LIMITS} where key_id = '${limitedKey.slice(5, 17)}';`);
  const user = await ownerToken(stack, key);
  const limitedUser = await ownerToken(stack, limitedKey, LIMITS);

  const env: Record<string, string> = {
    SUPABASE_URL: stack.supabaseUrl,
    SUPABASE_SERVICE_ROLE_KEY: stack.serviceRoleKey,
    MCP_USER_TOKENS: "on",
    AUTH_ISSUER: stack.authIssuer,
    SUPABASE_JWKS: jwksJson(stack.signingKey),
    USAGE_BATCH_SIZE: "0",
    // Long enough that no cache entry expires during the run (leases still come and go).
    TENANT_CACHE_TTL_MS: "3600000",
  };
  const { app, background, metrics } = composeApp(loadConfig((name) => env[name]), {
    families: [...FAMILIES, benchTools],
    log: silentLogger,
  });
  const url = "http://bench.local/mcp-tools-server/mcp";
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: BENCH_CALL });
  const send = (credential: string) =>
    Promise.resolve(app.fetch(
      new Request(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          authorization: `Bearer ${credential}`,
        },
        body,
      }),
    ));
  const variants: Array<[string, string]> = [
    ["key", key],
    ["key + limits", limitedKey],
    ["user", user],
    ["user + limits", limitedUser],
  ];
  for (const [name, credential] of variants) {
    const res = await send(credential);
    const text = await res.text();
    if (res.status !== 200 || !text.includes(String(BENCH_CALL_TOTAL))) {
      throw new Error(`${name}: unexpected answer ${res.status} ${text}`);
    }
  }
  const measure = async (credential: string) => {
    const started = performance.now();
    for (let i = 0; i < iterations; i++) await (await send(credential)).arrayBuffer();
    return ((performance.now() - started) * 1000) / iterations;
  };
  for (const [, credential] of variants) await measure(credential); // warm-up

  const perRound: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const [name, credential] of order) (perRound[name] ??= []).push(await measure(credential));
    console.error(`round ${round + 1}/${ROUNDS}`);
  }
  await background.settled();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const range = (xs: number[], digits: number) =>
    `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
  console.log(
    `warm tools/call, µs per request in process, ${ROUNDS} rounds × ${iterations} ` +
      `(Deno ${Deno.version.deno})`,
  );
  console.log(`${"variant".padEnd(14)} ${"median".padStart(8)} ${"range".padStart(14)}`);
  for (const [name] of variants) {
    console.log(
      `${name.padEnd(14)} ${median(perRound[name]).toFixed(1).padStart(8)} ${
        range(perRound[name], 1).padStart(14)
      }`,
    );
  }
  for (const caller of ["key", "user"]) {
    const ratios = perRound[`${caller} + limits`].map((us, i) => us / perRound[caller][i]);
    console.log(
      `limits, ${caller}: × ${median(ratios).toFixed(3)} (${range(ratios, 3)}) time per request ` +
        `of the same caller without limits`,
    );
  }
  console.log(
    `leases asked: ${metrics.limiterLeases} for ${ROUNDS + 2} × ${iterations} requests per variant`,
  );
  await admitBench(stack, { key, limitedKey, user, limitedUser });
  const leases = await stack.psql(`select coalesce(sum(leased), 0) || ' tokens leased in ' ||
    count(*) || ' counters' from public.usage_counters`);
  console.log(leases.trim());
} finally {
  await stack.stop();
}
