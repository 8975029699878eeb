/** Every refusal is JSON with a stable code, the right status, and nothing internal in it. */
import { equal, match, ok } from "node:assert/strict";
import { withChecksum } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { supabaseRpc } from "../../supabase/functions/mcp-tools-server/data/rpc.ts";
import { supabaseClient } from "../../supabase/functions/mcp-tools-server/data/supabase_client.ts";
import { z } from "zod";
import { choosePorts } from "../../scripts/lib/ports.ts";
import { inProcessApp, MCP_PATH, registerTools, tenantWithKey } from "../support/fixtures.ts";
import {
  callTool,
  listTools,
  post,
  reply,
  type RpcReply,
  type Target,
} from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

const mcpUrl = stack.info.mcpUrl;

function assertError(reply: RpcReply, status: number, code: string) {
  equal(reply.status, status, reply.text);
  equal(reply.headers.get("content-type")?.startsWith("application/json"), true);
  const body = JSON.parse(reply.text);
  equal(body.code, code);
  equal(typeof body.error, "string");
  ok(body.error.length > 10, "the message says something a person can act on");
  assertNoInternals(reply.text);
  if (status === 401) match(reply.headers.get("www-authenticate") ?? "", /^Bearer /);
  return body;
}

function assertNoInternals(text: string) {
  ok(!/\bstack\b|\n\s+at |\.ts:\d+|file:\/\//.test(text), `internal detail leaked: ${text}`);
}

const send = (headers: Record<string, string>, target: Target = mcpUrl) =>
  post(target, listTools(), { headers });

Deno.test("401 MISSING_API_KEY: no key, or an empty one", async () => {
  assertError(await send({}), 401, "MISSING_API_KEY");
  assertError(await send({ authorization: "Bearer " }), 401, "MISSING_API_KEY");
});

Deno.test("401 INVALID_API_KEY: unknown, malformed, or not a Bearer credential", async () => {
  const unknown = await withChecksum(`mcpk_${"0".repeat(12)}_${"1".repeat(64)}`);
  assertError(await send({ authorization: `Bearer ${unknown}` }), 401, "INVALID_API_KEY");
  assertError(await send({ authorization: "Bearer hello" }), 401, "INVALID_API_KEY");
  assertError(await send({ authorization: "Basic dXNlcjpwYXNz" }), 401, "INVALID_API_KEY");
  assertError(
    await send({ authorization: `Bearer ${stack.info.anonKey}` }),
    401,
    "INVALID_API_KEY",
  );
});

Deno.test("x-api-key works, also beside a Supabase key in Authorization", async () => {
  const t = await tenantWithKey(["echo"]);
  equal((await send({ "x-api-key": t.key })).status, 200);
  equal((await send({ "x-api-key": t.key, apikey: stack.info.anonKey })).status, 200);
});

Deno.test("400 AMBIGUOUS_CREDENTIALS: two different keys, or a repeated header", async () => {
  const a = await tenantWithKey(["echo"]);
  const b = await tenantWithKey(["echo"]);
  assertError(
    await send({ authorization: `Bearer ${a.key}`, "x-api-key": b.key }),
    400,
    "AMBIGUOUS_CREDENTIALS",
  );
  const headers = new Headers({ "content-type": "application/json" });
  headers.append("authorization", `Bearer ${a.key}`);
  headers.append("authorization", `Bearer ${b.key}`);
  const res = await fetch(mcpUrl, { method: "POST", headers, body: JSON.stringify(listTools()) });
  assertError(await reply(res), 400, "AMBIGUOUS_CREDENTIALS");
});

Deno.test("400 CREDENTIALS_IN_URL: keys in the query string are refused", async () => {
  const t = await tenantWithKey(["echo"]);
  assertError(await send({}, `${mcpUrl}?api_key=${t.key}`), 400, "CREDENTIALS_IN_URL");
});

Deno.test("403 KEY_REVOKED, KEY_EXPIRED, TENANT_DISABLED", async () => {
  const revoked = await tenantWithKey(["echo"]);
  await stack.psql(`update public.api_keys set revoked_at = now() - interval '1 minute'
    where tenant_id = '${revoked.id}'`);
  assertError(await send({ authorization: `Bearer ${revoked.key}` }), 403, "KEY_REVOKED");

  const expired = await tenantWithKey(["echo"]);
  await stack.psql(`update public.api_keys set expires_at = now() - interval '1 second'
    where tenant_id = '${expired.id}'`);
  assertError(await send({ authorization: `Bearer ${expired.key}` }), 403, "KEY_EXPIRED");

  const disabled = await tenantWithKey(["echo"], { status: "disabled" });
  assertError(await send({ authorization: `Bearer ${disabled.key}` }), 403, "TENANT_DISABLED");
});

Deno.test("503 STORE_UNAVAILABLE with Retry-After when the store can't be reached", async () => {
  const t = await tenantWithKey(["echo"]);
  const port = closedPort();
  const app = inProcessApp({ supabaseUrl: `http://127.0.0.1:${port}` });
  const body = assertError(
    await send({ authorization: `Bearer ${t.key}` }, app),
    503,
    "STORE_UNAVAILABLE",
  );
  match(body.error, /retry/i);
  const retry = await send({ authorization: `Bearer ${t.key}` }, app);
  equal(retry.headers.get("retry-after"), "5");
  equal(app.metrics.storeErrors, 2, "failures are not cached: each request tried the store");
});

Deno.test("503 STORE_UNAVAILABLE when the store hangs past the timeout", async () => {
  const t = await tenantWithKey(["echo"]);
  const release = Promise.withResolvers<void>();
  const hung = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async () => (await release.promise, new Response("late")),
  );
  try {
    const app = inProcessApp({
      supabaseUrl: `http://127.0.0.1:${hung.addr.port}`,
      config: { storeTimeoutMs: 200 },
    });
    const started = performance.now();
    assertError(await send({ authorization: `Bearer ${t.key}` }, app), 503, "STORE_UNAVAILABLE");
    ok(performance.now() - started < 2000, "answered at the timeout, not when the store woke up");
  } finally {
    release.resolve();
    await hung.shutdown();
  }
});

Deno.test("the store coming back is noticed on the next request", async () => {
  const t = await tenantWithKey(["echo"]);
  let up = false;
  const proxy = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    if (!up) return new Response("upstream connect error", { status: 503 });
    const url = new URL(req.url);
    return fetch(stack.info.supabaseUrl + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  try {
    const app = inProcessApp({ supabaseUrl: `http://127.0.0.1:${proxy.addr.port}` });
    assertError(await send({ authorization: `Bearer ${t.key}` }, app), 503, "STORE_UNAVAILABLE");
    up = true;
    equal((await send({ authorization: `Bearer ${t.key}` }, app)).status, 200);
  } finally {
    await proxy.shutdown();
  }
});

Deno.test("a function process whose store is down answers 503, not 500", async () => {
  const t = await tenantWithKey(["echo"]);
  const fn = await stack.startFunction({ SUPABASE_URL: `http://127.0.0.1:${closedPort()}` });
  try {
    const url = `${fn.url}${MCP_PATH}`;
    assertError(await send({ authorization: `Bearer ${t.key}` }, url), 503, "STORE_UNAVAILABLE");
  } finally {
    await fn.stop();
  }
});

Deno.test("404 NOT_FOUND for other paths, pointing at the MCP endpoint", async () => {
  const res = await fetch(`${stack.info.supabaseUrl}/functions/v1/mcp-tools-server/nope`);
  const body = assertError(await reply(res), 404, "NOT_FOUND");
  match(body.error, /mcp-tools-server\/mcp/);
});

Deno.test("413 PAYLOAD_TOO_LARGE for oversized bodies, every time, through the gateway or not", async () => {
  const t = await tenantWithKey(["echo"]);
  const huge = JSON.stringify(callTool("echo", { text: "x".repeat(2 * 1024 * 1024) }));
  // Answered before the body is read: unless the rest is drained, the function's Deno resets
  // the connection on some of these and the 413 is lost ("fetch failed", a 502 at the gateway).
  for (const url of [mcpUrl, `${stack.info.functionUrl}${MCP_PATH}`]) {
    for (let i = 0; i < 10; i++) {
      assertError(await post(url, huge, { key: t.key }), 413, "PAYLOAD_TOO_LARGE");
    }
  }
});

Deno.test("refusals made before the body is read arrive, every time, through the gateway or not", async () => {
  const t = await tenantWithKey(["echo"]);
  const disabled = await tenantWithKey(["echo"], { status: "disabled" });
  // Under the body limit, but large: answered (403) before it is read. Unless the rest is drained,
  // the function's Deno drops the connection under the answer, as for the 413 above.
  const big = JSON.stringify(callTool("echo", { text: "x".repeat(512 * 1024) }));
  for (const url of [mcpUrl, `${stack.info.functionUrl}${MCP_PATH}`]) {
    for (let i = 0; i < 10; i++) {
      assertError(await post(url, big, { key: disabled.key }), 403, "TENANT_DISABLED");
      assertError(
        await post(url, big, { key: t.key, headers: { origin: "https://evil.example.com" } }),
        403,
        "ORIGIN_NOT_ALLOWED",
      );
      // The connection (or the next one) still serves a good request.
      equal((await post(url, callTool("echo", { text: "ok" }), { key: t.key })).status, 200);
    }
  }
});

Deno.test("malformed JSON-RPC is a 400 without internals", async () => {
  const t = await tenantWithKey(["echo"]);
  const reply = await post(mcpUrl, "{not json", { key: t.key });
  equal(reply.status, 400);
  assertNoInternals(reply.text);
});

Deno.test("a tool that crashes yields an isError result with a reference, no stack", async () => {
  const crashing = defineTool({
    name: "crash",
    family: "test",
    description: "Always fails.",
    input: z.object({}),
    run: () => {
      throw new TypeError("secret internal detail at /srv/app.ts:12");
    },
  });
  await registerTools([crashing]);
  const t = await tenantWithKey(["crash"]);
  const app = inProcessApp({ families: [builtinTools, [crashing]] });
  const reply = await post(app, callTool("crash"), { key: t.key, accept: "json" });
  equal(reply.body.result.isError, true);
  match(reply.body.result.content[0].text, /failed unexpectedly \(reference [0-9a-f-]{36}\)/);
  ok(!reply.text.includes("secret internal detail"));
  assertNoInternals(reply.text);
});

Deno.test("an unexpected failure in the request path is a 500 with a reference, no stack", async () => {
  const t = await tenantWithKey(["echo"]);
  const app = inProcessApp({
    store: {
      resolveKey: () => {
        throw new TypeError("bug with internal detail");
      },
    },
  });
  const reply = await post(app, listTools(), { key: t.key });
  const body = assertError(reply, 500, "INTERNAL_ERROR");
  match(body.reference, /^[0-9a-f-]{36}$/);
  ok(!reply.text.includes("internal detail"));
});

const closedPort = () => choosePorts({ closed: undefined }).closed;

/** A stand-in for a gateway in front of the real stack: `answer` may replace its reply. */
function gatewayInFront(answer: (url: URL) => Response | string | null) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    const replaced = answer(url);
    if (replaced instanceof Response) return replaced;
    return fetch(stack.info.supabaseUrl + (replaced ?? url.pathname) + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

Deno.test("one failure rule: the gateway's 502 and 504 are outages (503), a database error is a bug (500)", async () => {
  const t = await tenantWithKey(["echo"]);
  for (const status of [502, 504]) {
    const gateway = gatewayInFront(() => new Response("bad gateway", { status }));
    try {
      const app = inProcessApp({ supabaseUrl: gateway.url });
      assertError(await send({ authorization: `Bearer ${t.key}` }, app), 503, "STORE_UNAVAILABLE");
    } finally {
      await gateway.close();
    }
  }
  // The real PostgREST answering that the lookup function is gone: schema drift, not an outage.
  const drifted = gatewayInFront((url) =>
    url.pathname.endsWith("/rpc/resolve_api_key") ? `${url.pathname}_gone` : null
  );
  try {
    const app = inProcessApp({ supabaseUrl: drifted.url });
    const body = assertError(
      await send({ authorization: `Bearer ${t.key}` }, app),
      500,
      "INTERNAL_ERROR",
    );
    match(body.reference, /^[0-9a-f-]{36}$/);
    equal(app.metrics.storeErrors, 1);
  } finally {
    await drifted.close();
  }
});

Deno.test("one failure rule: a CRM call that meets a 502 says the database did not answer", async () => {
  const t = await tenantWithKey(["crm_read"]);
  const gateway = gatewayInFront(() => new Response("bad gateway", { status: 502 }));
  try {
    const app = inProcessApp({
      services: {
        db: supabaseRpc(
          supabaseClient({ url: gateway.url, key: stack.info.serviceRoleKey }, 2_000),
        ),
      },
    });
    const reply = await post(app, callTool("crm_read", { entity: "deal" }), { key: t.key });
    equal(reply.body.result.isError, true);
    match(reply.body.result.content[0].text, /did not answer in time. Nothing was changed/);
  } finally {
    await gateway.close();
  }
});
