/**
 * Store outages on a dedicated stack: with PostgREST frozen (SIGSTOP) or Postgres stopped in the
 * middle of traffic, a key resolved before keeps working for TENANT_STALE_MS past its TTL, unknown
 * keys get 503 STORE_UNAVAILABLE with Retry-After, and once the store answers again, its answer
 * (a revocation) wins within the TTL.
 */
import { equal, ok } from "node:assert/strict";
import { withChecksum } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { composedApp, lit } from "../support/fixtures.ts";
import { callTool, post } from "../support/mcp_client.ts";
import { startOutageStack } from "../support/outage.ts";

const TTL_MS = 1_000;
const STALE_MS = 60_000;

const unknownKey = () =>
  withChecksum(`mcpk_ab12cd34ef56_${crypto.randomUUID().replaceAll("-", "").repeat(2)}`);

Deno.test({
  name:
    "outage: frozen PostgREST, stopped Postgres — warm keys served stale, unknown keys 503, revocation wins once the store answers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const outage = await startOutageStack();
    try {
      const { stack } = outage;
      const app = composedApp({
        supabase: { url: stack.supabaseUrl, key: stack.serviceRoleKey },
        config: {
          storeTimeoutMs: 400,
          tenantCacheTtlMs: TTL_MS,
          staleKeyMs: STALE_MS,
          retryAfterSeconds: 2,
          tenantSecretsKey: stack.tenantSecretsKey,
        },
      });
      const echo = (key: string, text = "hi") => post(app, callTool("echo", { text }), { key });
      const a = await outage.tenantWithKey(["echo"]);
      equal((await echo(a.key)).status, 200);

      // 1. PostgREST frozen: requests hang at the store until STORE_TIMEOUT_MS.
      outage.freezePostgrest();
      app.clock.advance(TTL_MS + 1);
      const lookups = app.metrics.storeLookups;
      const during = await Promise.all(Array.from({ length: 20 }, (_, i) => echo(a.key, `s${i}`)));
      for (const [i, reply] of during.entries()) {
        equal(reply.status, 200, reply.text);
        equal(reply.body.result.content[0].text, `s${i}`);
      }
      ok(app.metrics.staleKeysServed >= 1);
      equal(
        app.metrics.storeLookups - lookups,
        1,
        "20 concurrent requests, one attempt at the store",
      );
      // Within the retry pause, no request waits for the store.
      const started = performance.now();
      equal((await echo(a.key)).status, 200);
      ok(performance.now() - started < 300, "served stale without waiting for the store");
      const unknown = await echo(await unknownKey());
      equal(unknown.status, 503);
      equal(unknown.body.code, "STORE_UNAVAILABLE");
      equal(unknown.headers.get("retry-after"), "2");
      // Past the stale window, the outage shows.
      app.clock.advance(STALE_MS);
      const expired = await echo(a.key);
      equal(expired.status, 503);
      equal(expired.body.code, "STORE_UNAVAILABLE");

      // 2. The store is back: a revocation made during the outage takes effect at once.
      outage.thawPostgrest();
      await stack.psql(
        `update public.api_keys set revoked_at = now() where tenant_id =
           (select id from public.tenants where slug = ${lit(a.slug)})`,
      );
      // PostgREST first works off what queued while it was frozen.
      let revoked = await echo(a.key);
      for (let i = 0; i < 40 && revoked.status === 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        app.clock.advance(3_000);
        revoked = await echo(a.key);
      }
      equal(revoked.status, 403, revoked.text);
      equal(revoked.body.code, "KEY_REVOKED");

      // 3. Postgres stopped in the middle of traffic.
      const b = await outage.tenantWithKey(["echo"]);
      equal((await echo(b.key)).status, 200);
      let stopping = true;
      const statuses: number[] = [];
      const traffic = (async () => {
        // TTLs pass while Postgres is down, but never past the stale window: how many requests
        // fit in the outage depends on the machine's speed, the clock must not.
        let advanced = 0;
        while (stopping) {
          statuses.push((await echo(b.key)).status);
          // A cache hit never leaves the microtask queue: let timers and I/O run between requests.
          await new Promise((resolve) => setTimeout(resolve, 1));
          if (advanced < STALE_MS / 2) {
            app.clock.advance(10);
            advanced += 10;
          }
        }
      })();
      await outage.stopPostgres();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const unknownWhileDown = await echo(await unknownKey());
      equal(unknownWhileDown.status, 503);
      await outage.startPostgres();
      await new Promise((resolve) => setTimeout(resolve, 500));
      stopping = false;
      await traffic;
      ok(statuses.length > 5, `requests during the outage: ${statuses.length}`);
      equal(statuses.filter((s) => s !== 200).length, 0, `statuses: ${statuses.join(",")}`);
      // The store answers again (PostgREST reconnects): unknown keys are plainly unknown.
      let after = 0;
      for (let i = 0; i < 40 && after !== 401; i++) {
        after = (await echo(await unknownKey())).status;
        if (after !== 401) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      equal(after, 401);
    } finally {
      await outage.stop();
    }
  },
});
