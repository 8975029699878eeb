/**
 * What a signed-in user's token costs per request against an API key, measured in process in the
 * same run (no network, no database: both resolve from memory, as warm caches do). Not part of the
 * test suite.
 *
 *   deno run -A bench/user_auth.ts [iterations]
 *
 *   key                  tools/call with an API key (warm key cache): the baseline
 *   user token (warm)    the same call with a Supabase Auth access token seen before (verified
 *                        token and membership cached)
 *   user token (new)     every request a token not seen before: ES256 signature, claims and the
 *                        cached membership (what each refreshed token costs once)
 *
 * Variants run interleaved, round by round in rotated order; reported as median and range of µs per
 * request and as a ratio to the key in the same round.
 */
import { composeApp } from "../supabase/functions/mcp-tools-server/compose.ts";
import { withChecksum } from "../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { loadConfig } from "../supabase/functions/mcp-tools-server/config.ts";
import { silentLogger } from "../supabase/functions/mcp-tools-server/lib/log.ts";
import { BENCH_KEY_RECORD, BENCH_TENANT } from "./memory_tenant.ts";
import type { MemberStore } from "../supabase/functions/mcp-tools-server/data/members.ts";
import { jwksJson, newSigningKey, signEs256 } from "../scripts/lib/signing_key.ts";
import { offlineServices } from "./offline_services.ts";

const iterations = Number(Deno.args[0] ?? 5_000);
const ROUNDS = 5;
const issuer = "https://bench.supabase.co/auth/v1";
const url = "http://bench.local/mcp-tools-server/mcp";
const tenant = BENCH_TENANT;
const record = BENCH_KEY_RECORD;
const members: MemberStore = {
  resolveMember: () => Promise.resolve({ role: "owner", tenant }),
};
const signingKey = await newSigningKey();
const env: Record<string, string> = {
  MCP_USER_TOKENS: "on",
  AUTH_ISSUER: issuer,
  SUPABASE_JWKS: jwksJson(signingKey),
  // Long enough that no cache entry expires during the run.
  TENANT_CACHE_TTL_MS: "3600000",
};
const { app } = composeApp(loadConfig((name) => env[name]), {
  store: { resolveKey: () => Promise.resolve(record) },
  members,
  services: offlineServices(),
  log: silentLogger,
});

const key = await withChecksum(`mcpk_${record.keyId}_${"0".repeat(64)}`);
const userId = crypto.randomUUID();
const now = Math.floor(Date.now() / 1000);
const mint = () =>
  signEs256({
    iss: issuer,
    aud: "authenticated",
    sub: userId,
    role: "authenticated",
    iat: now,
    exp: now + 7200,
    session_id: crypto.randomUUID(),
  }, signingKey);
const token = await mint();
// Pre-minted so minting is not measured.
const fresh: string[] = [];
for (let i = 0; i < iterations * (ROUNDS + 1) + 1; i++) fresh.push(await mint());

const body = (id: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "echo", arguments: { text: "hello" } },
  });
const send = (credential: string, id: number) =>
  Promise.resolve(app.fetch(
    new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${credential}`,
      },
      body: body(id),
    }),
  ));

let next = 0;
const variants: Array<[string, (i: number) => Promise<Response>]> = [
  ["key", (i) => send(key, i)],
  ["user token (warm)", (i) => send(token, i)],
  ["user token (new)", (i) => send(fresh[next++], i)],
];

async function measure(run: (i: number) => Promise<Response>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await (await run(i)).arrayBuffer();
  return ((performance.now() - started) * 1000) / iterations;
}

for (const [name, run] of variants) {
  const res = await run(0);
  const text = await res.text();
  if (res.status !== 200 || !text.includes("hello")) {
    throw new Error(`${name}: unexpected answer ${res.status} ${text}`);
  }
}
for (const [, run] of variants) await measure(run); // warm-up

const perRound: Record<string, number[]> = {};
const ratios: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  const order = variants.map((_, i) => variants[(i + round) % variants.length]);
  const got: Record<string, number> = {};
  for (const [name, run] of order) got[name] = await measure(run);
  for (const [name] of variants) {
    (perRound[name] ??= []).push(got[name]);
    (ratios[name] ??= []).push(got[name] / got.key);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[], digits: number) =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
console.log(
  `tools/call, µs per request in process, ${ROUNDS} rounds × ${iterations} (Deno ${Deno.version.deno})`,
);
console.log(
  `${"variant".padEnd(20)} ${"median".padStart(8)} ${"range".padStart(14)}  × key (range)`,
);
for (const [name] of variants) {
  console.log(
    `${name.padEnd(20)} ${median(perRound[name]).toFixed(1).padStart(8)} ${
      range(perRound[name], 1).padStart(14)
    }  ${median(ratios[name]).toFixed(2)} (${range(ratios[name], 2)})`,
  );
}
