/**
 * A key's first request costs one database round trip: resolve_api_key answers the key, its
 * tenant and tools, the tenant's remote MCP servers and whether any limit applies, so a key without
 * limits asks the limiter nothing. A key or tenant with limits leases as before. Counted by a proxy
 * in front of the gateway, which sees every PostgREST request the function makes.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { inProcessApp, lit, tenantWithKey } from "../support/fixtures.ts";
import { callTool, listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

const TTL = 10_000;
const sql = (query: string) => stack.psql(query);

/** A proxy to the gateway that records the path of every request. */
function countingGateway() {
  const paths: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    paths.push(url.pathname);
    return fetch(stack.info.supabaseUrl + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, paths, close: () => server.shutdown() };
}

const LOOKUP = "/rest/v1/rpc/resolve_api_key";
const LEASE = "/rest/v1/rpc/lease_usage";

Deno.test("first request: a key without limits costs one lookup and no lease, then nothing", async () => {
  const gateway = countingGateway();
  try {
    const fn = inProcessApp({ supabaseUrl: gateway.url, config: { tenantCacheTtlMs: TTL } });
    const t = await tenantWithKey(["echo", "tenant_info"]);
    equal((await post(fn, listTools(), { key: t.key })).status, 200);
    deepStrictEqual(gateway.paths, [LOOKUP], "the first tools/list");
    for (let i = 0; i < 5; i++) {
      equal((await post(fn, callTool("echo", { text: "hi" }), { key: t.key })).status, 200);
    }
    deepStrictEqual(gateway.paths, [LOOKUP], "calls within the TTL ask nothing");
    equal(fn.metrics.limiterLeases, 0);

    // A limit set meanwhile applies once the key is read again (within the TTL, as before).
    await sql(`update public.tenants set calls_per_day = 2 where id = '${t.id}'`);
    fn.clock.advance(TTL + 1);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await post(fn, callTool("echo", { text: "hi" }), { key: t.key })).status);
    }
    deepStrictEqual(statuses, [200, 200, 429]);
    ok(gateway.paths.includes(LEASE), "the limit is leased once the lookup says it applies");
    await fn.background.settled();
  } finally {
    await gateway.close();
  }
});

Deno.test("first request: a key with a limit of its own, or its tenant's, leases as before", async () => {
  for (const limit of ["key", "tenant"] as const) {
    const gateway = countingGateway();
    try {
      const fn = inProcessApp({ supabaseUrl: gateway.url, config: { tenantCacheTtlMs: TTL } });
      const t = await tenantWithKey(["echo"]);
      if (limit === "key") {
        await sql(`update public.api_keys set requests_per_minute = 100
          where key_id = ${lit(t.key.slice(5, 17))}`);
      } else {
        await sql(`update public.tenants set calls_per_month = 100 where id = '${t.id}'`);
      }
      equal((await post(fn, listTools(), { key: t.key })).status, 200);
      deepStrictEqual(gateway.paths, [LOOKUP, LEASE], `${limit} limit`);
      equal(fn.metrics.limiterLeases, 1);
      await fn.background.settled();
    } finally {
      await gateway.close();
    }
  }
});

Deno.test("first request: the lookup carries the tenant's enabled remote servers and the limits flag", async () => {
  const t = await tenantWithKey(["echo"]);
  const hash = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t.key))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const lookup = async () =>
    JSON.parse(await sql(`select public.resolve_api_key(${lit(hash)})::text`));
  const before = await lookup();
  deepStrictEqual(before.remote_servers, []);
  equal(before.limited, false);
  await sql(
    `select public.attach_remote_server(${lit(t.slug)}, 'docs_', 'https://docs.example/mcp')`,
  );
  await sql(
    `update public.api_keys set calls_per_day = 5 where key_id = ${lit(t.key.slice(5, 17))}`,
  );
  const after = await lookup();
  deepStrictEqual(after.remote_servers.map((s: { prefix: string }) => s.prefix), ["docs_"]);
  equal(after.limited, true);
});
