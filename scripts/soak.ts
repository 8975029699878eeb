// `deno task soak [cases] [seed] [--root <checkout>]`: the hardening checks at volume, on a throwaway stack of real
// processes, ending with one summary line (and exit code 1 when a check fails):
//
// - fuzz: ≥ 10,000 seeded hostile requests (tests/support/hostile_bodies.ts) against a function
//   process: no 5xx, no stack trace, JSON answers;
// - memory: 4 concurrent ~780 KB bodies of nested arrays inside `arguments`, sent again and again
//   to a fresh function process: its peak RSS (VmHWM) must stay under 160 MB, and another
//   tenant's `echo` p50 within 2× of the same process idle;
// - guessing: a flood of random well-formed keys from one client address: how many reached the
//   database, how many got 429, and a valid key's p50 during the flood against idle;
// - outage: PostgREST frozen (SIGSTOP) while a warm key keeps calling past its TTL: every call
//   must be served (stale), then the store answers again.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { answerProblem, hostileCases } from "../tests/support/hostile_bodies.ts";
import { startStack } from "./stack.ts";

const { values: flags, positionals } = parseArgs({
  args: Deno.args,
  options: { root: { type: "string" } },
  allowPositionals: true,
});
const CASES = Number(positionals[0] ?? 10_000);
const SEED = Number(positionals[1] ?? 20261124);
const PATH = "/mcp-tools-server/mcp";
const RSS_LIMIT_MB = 160;

const lit = (value: string) => `'${value.replaceAll("'", "''")}'`;
const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function peakRssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function echoBody(text: string): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name: "echo", arguments: { text } },
  });
}

async function call(url: string, key: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      accept: "application/json",
      ...headers,
    },
    body,
  });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    text: await res.text(),
  };
}

/** p50 of `n` sequential echo calls, in ms. */
async function echoP50(url: string, key: string, n = 200): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const reply = await call(url, key, echoBody(`e${i}`));
    if (reply.status !== 200) throw new Error(`echo failed: ${reply.status} ${reply.text}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Floods `url` from a worker thread while `during` runs; returns the statuses it got. */
async function flood(
  job: {
    url: string;
    concurrency: number;
    requests: "fixed" | "random-keys";
    body: string;
    headers: Record<string, string>;
  },
  during: () => Promise<void>,
): Promise<Map<number, number>> {
  const worker = new Worker(new URL("./soak_flood.ts", import.meta.url), { type: "module" });
  const done = new Promise<Record<number, number>>((resolve) => {
    worker.onmessage = (event) => resolve(event.data);
  });
  worker.postMessage(job);
  await sleep(300); // the flood is under way before measuring
  try {
    await during();
  } finally {
    worker.postMessage("stop");
  }
  const statuses = await done;
  worker.terminate();
  return new Map(Object.entries(statuses).map(([status, n]) => [Number(status), n]));
}

async function main(): Promise<number> {
  // --root: another checkout's function and migrations, to compare a version before a change.
  const stack = await startStack(flags.root ? { root: flags.root } : {});
  const failures: string[] = [];
  const parts: string[] = [];
  try {
    const tenant = async (tools: string[]) => {
      const slug = `soak-${hex(4)}`;
      await stack.psql(
        `insert into public.tenants (slug, name, enabled_tools) values (${lit(slug)}, ${
          lit(`Soak ${slug}`)
        }, array[${tools.map(lit).join(",")}]::text[])`,
      );
      return JSON.parse(await stack.psql(`select public.issue_api_key(${lit(slug)}, 'soak')`))
        .key as string;
    };
    const victim = await tenant(["echo", "tenant_info"]);
    const attacker = await tenant(["echo", "tenant_info"]);
    const metrics = async (fnUrl: string) =>
      await (await fetch(`${fnUrl}/mcp-tools-server/metrics`, {
        headers: { authorization: `Bearer ${stack.metricsToken}` },
      })).json();

    // 1. Fuzz.
    {
      const url = stack.function.url + PATH;
      const cases = hostileCases(SEED, CASES);
      const problems: string[] = [];
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < cases.length) {
          const c = cases[next++];
          let reply;
          try {
            reply = await call(url, attacker, c.body, {
              accept: "application/json, text/event-stream",
              ...c.headers,
            });
          } catch (err) {
            // A connection the function dropped: the client got no answer at all.
            problems.push(`${c.what}: no answer (${(err as Error).message})`);
            continue;
          }
          const problem = answerProblem(reply.status, reply.type, reply.text);
          if (problem) problems.push(`${c.what}: ${problem}`);
        }
      }));
      const after = await call(url, victim, echoBody("after"));
      if (after.status !== 200) problems.push(`echo after the fuzz: ${after.status}`);
      parts.push(`fuzz ${cases.length} cases (seed ${SEED}): ${problems.length} problems`);
      if (problems.length) failures.push(...problems.slice(0, 5));
    }

    // 2. Hostile bodies: memory and another tenant's latency, on a fresh process.
    {
      const fn = await stack.startFunction();
      const url = fn.url + PATH;
      await echoP50(url, victim, 50); // warm
      const idle = await echoP50(url, victim);
      const depth = 780_000 / 2;
      const hostile =
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":${
          "[".repeat(depth)
        }${"]".repeat(depth)}}}}`;
      let during = 0;
      const statuses = await flood({
        url,
        concurrency: 4,
        requests: "fixed",
        body: hostile,
        headers: { authorization: `Bearer ${attacker}`, "content-type": "application/json" },
      }, async () => {
        during = await echoP50(url, victim);
      });
      const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
      const refused = statuses.get(400) ?? 0;
      const rss = peakRssMb(fn.pid);
      const ratio = during / idle;
      parts.push(
        `hostile bodies ${sent} (${
          round(hostile.length / 1024, 0)
        } KB, ${refused} refused): peak RSS ${
          round(rss, 1)
        } MB (limit ${RSS_LIMIT_MB}), other tenant echo p50 ${round(idle)} → ${
          round(during)
        } ms (×${round(ratio)}, limit ×2)`,
      );
      if (rss >= RSS_LIMIT_MB) failures.push(`peak RSS ${round(rss, 1)} MB`);
      if (ratio > 2) failures.push(`echo p50 ×${round(ratio)} under hostile bodies`);
      if (refused !== sent) failures.push(`${sent - refused} hostile bodies not refused`);
      await fn.stop();
    }

    // 3. Key guessing from one address.
    {
      const fn = await stack.startFunction();
      const url = fn.url + PATH;
      await echoP50(url, victim, 50);
      const idle = await echoP50(url, victim);
      const before = await metrics(fn.url);
      let during = 0;
      const statuses = await flood({
        url,
        concurrency: 8,
        requests: "random-keys",
        body: echoBody("guess"),
        headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.66" },
      }, async () => {
        during = await echoP50(url, victim);
      });
      const after = await metrics(fn.url);
      const guesses = [...statuses.values()].reduce((a, b) => a + b, 0);
      const lookups = after.storeLookups - before.storeLookups;
      parts.push(
        `guessing ${guesses} keys from one address: ${lookups} store lookups, ${
          statuses.get(429) ?? 0
        }× 429; valid key p50 ${round(idle)} → ${round(during)} ms, its lookups during the flood: ${
          Math.max(0, lookups - (statuses.get(401) ?? 0))
        }`,
      );
      if ((statuses.get(429) ?? 0) === 0) failures.push("no 429 during the guessing flood");
      if (lookups > 60) failures.push(`${lookups} store lookups during the guessing flood`);
      await fn.stop();
    }

    // 4. Outage: PostgREST frozen while a warm key keeps calling past its TTL.
    {
      const fn = await stack.startFunction({ TENANT_CACHE_TTL_MS: "500", STORE_TIMEOUT_MS: "500" });
      const url = fn.url + PATH;
      await echoP50(url, victim, 5);
      const pidDir = join(stack.runDir, "pids");
      const pgrst = [...Deno.readDirSync(pidDir)].find((e) =>
        Deno.readTextFileSync(join(pidDir, e.name)).includes("postgrest")
      );
      const pid = Number(pgrst!.name);
      Deno.kill(pid, "SIGSTOP");
      const statuses: number[] = [];
      try {
        const until = performance.now() + 3_000;
        while (performance.now() < until) {
          statuses.push((await call(url, victim, echoBody("outage"))).status);
          await sleep(20);
        }
      } finally {
        Deno.kill(pid, "SIGCONT");
      }
      const served = statuses.filter((s) => s === 200).length;
      parts.push(`outage (PostgREST frozen 3 s): ${served}/${statuses.length} served`);
      if (served !== statuses.length) {
        failures.push(`outage: ${statuses.length - served} not served`);
      }
      await fn.stop();
    }
  } finally {
    await stack.stop();
  }
  console.log(`soak ${failures.length === 0 ? "PASS" : "FAIL"}: ${parts.join("; ")}`);
  for (const failure of failures) console.error(`  ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

Deno.exit(await main());
