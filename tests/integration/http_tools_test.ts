/**
 * HTTP API tools end to end: the real app against the real stack, calling a real local HTTP
 * server that plays each tenant's API.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import {
  type Resolver,
  systemResolver,
} from "../../supabase/functions/mcp-tools-server/upstream/guarded_fetch.ts";
import { type FakeApi, startFakeApi } from "../support/fake_api.ts";
import { inProcessApp, lit } from "../support/fixtures.ts";
import { addHttpTool, httpTenant, setSecret } from "../support/http_fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

const ORDERS_GET = {
  method: "GET",
  path: "/orders/{order_id}",
  title: "Get an order",
  input_schema: {
    type: "object",
    properties: {
      order_id: { type: "string", description: "The order id" },
      expand: { type: "boolean" },
      tags: { type: "array", items: { type: "string" } },
      trace: { type: "string" },
    },
    required: ["order_id"],
    additionalProperties: false,
  },
  query: ["expand", "tags"],
  headers: { "X-Trace": "trace" },
  annotations: { readOnlyHint: true },
};

const ORDERS_CREATE = {
  method: "POST",
  path: "/orders",
  input_schema: {
    type: "object",
    properties: { item: { type: "string" }, qty: { type: "integer", minimum: 1 } },
    required: ["item", "qty"],
  },
  body: ["item", "qty"],
};

/** GET <path template> with one path argument, for the error-shaped routes of the fake API. */
const route = (path: string, extra: Record<string, unknown> = {}) => ({
  method: "GET",
  path,
  input_schema: {
    type: "object",
    properties: { arg: { type: "string" }, to: { type: "string" } },
    required: ["arg"],
  },
  query: ["to"],
  ...extra,
});

// Shared by the tests: one catalog per run, created once.
const tools = {
  get: await addHttpTool(ORDERS_GET),
  create: await addHttpTool(ORDERS_CREATE),
  status: await addHttpTool(route("/status/{arg}")),
  big: await addHttpTool(route("/big/{arg}")),
  slow: await addHttpTool(route("/slow/{arg}", { timeout_ms: 300 })),
  redirect: await addHttpTool(route("/redirect/{arg}")),
  head: await addHttpTool(
    route("/file/{arg}", { method: "HEAD", annotations: { readOnlyHint: true } }),
  ),
};
const ALL = Object.values(tools);

function upstreamConfig(api: FakeApi, tenant: string, auth: Record<string, unknown>) {
  return {
    http: {
      base_url: `${api.url}/t/${tenant}`,
      headers: { "X-Client-Id": `${tenant}-client` },
      auth,
    },
  };
}

const SECRET_A = `sk_live_A_${crypto.randomUUID()}`;
const SECRET_B = `sk_live_B_${crypto.randomUUID()}`;

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (event: string, fields?: Record<string, unknown>) => {
    lines.push(
      JSON.stringify(
        { level, event, ...fields },
        (_k, v) => v instanceof Error ? `${v.name}: ${v.message}` : v,
      ),
    );
  };
  return { lines, info: add("info"), error: add("error") };
}

async function withApis(fn: (a: FakeApi, b: FakeApi) => Promise<void>) {
  const a = startFakeApi("a");
  const b = startFakeApi("b");
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

/** Tenant "acme" with every tool and its bearer secret set, and an app allowed to reach the API. */
async function acme(api: FakeApi) {
  const tenant = await httpTenant(
    ALL,
    upstreamConfig(api, "acme", { type: "bearer", secret: "api_token" }),
  );
  await setSecret(tenant.slug, "api_token", SECRET_A);
  return { tenant, app: inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } }) };
}

Deno.test("an HTTP tool calls the tenant's API: path, query, body, headers and credentials", async () => {
  await withApis(async (api) => {
    const { tenant, app } = await acme(api);

    const got = await post(
      app,
      callTool(tools.get, {
        order_id: "A/1 ?",
        expand: true,
        tags: ["x", "y"],
        trace: "trace-1",
      }),
      { key: tenant.key },
    );
    const result = got.body.result;
    equal(result.isError, undefined, got.text);
    const seen = api.seen.at(-1)!;
    equal(seen.method, "GET");
    equal(seen.path, "/t/acme/orders/A%2F1%20%3F");
    deepStrictEqual(seen.query, { expand: ["true"], tags: ["x", "y"] });
    equal(seen.headers.authorization, `Bearer ${SECRET_A}`);
    equal(seen.headers["x-client-id"], "acme-client");
    equal(seen.headers["x-trace"], "trace-1");
    match(seen.headers["user-agent"], /^mcp-tools-server\//);
    // JSON answers become structuredContent plus the same as text.
    equal(result.structuredContent.path, "/t/acme/orders/A%2F1%20%3F");
    deepStrictEqual(JSON.parse(result.content[0].text), result.structuredContent);
    // The fake API echoes the request headers: the credential is masked in what the agent sees.
    equal(result.structuredContent.headers.authorization, "[redacted]");
    ok(!got.text.includes(SECRET_A), "the secret never reaches the caller");

    const created = await post(app, callTool(tools.create, { item: "book", qty: 2 }), {
      key: tenant.key,
    });
    equal(created.body.result.isError, undefined, created.text);
    const posted = api.seen.at(-1)!;
    deepStrictEqual([posted.method, posted.path], ["POST", "/t/acme/orders"]);
    deepStrictEqual(JSON.parse(posted.body), { item: "book", qty: 2 });
    match(posted.headers["content-type"], /^application\/json/);

    // Arguments are validated against the stored input_schema before anything is sent.
    const before = api.seen.length;
    const bad = await post(app, callTool(tools.create, { item: "book", qty: 0 }), {
      key: tenant.key,
    });
    ok(bad.body.error || bad.body.result?.isError, bad.text);
    equal(api.seen.length, before);
  });
});

Deno.test("a HEAD tool answers with the status and the headers that describe the resource", async () => {
  await withApis(async (api) => {
    const { tenant, app } = await acme(api);

    const got = await post(app, callTool(tools.head, { arg: "report.pdf" }), { key: tenant.key });
    const result = got.body.result;
    equal(result.isError, undefined, got.text);
    const seen = api.seen.at(-1)!;
    deepStrictEqual([seen.method, seen.path], ["HEAD", "/t/acme/file/report.pdf"]);
    equal(seen.headers.authorization, `Bearer ${SECRET_A}`);
    deepStrictEqual(result.structuredContent, {
      status: 200,
      headers: {
        "content-type": "application/pdf",
        "content-length": "4321",
        etag: '"report.pdf-v3"',
        "last-modified": "Tue, 03 Nov 2026 10:00:00 GMT",
        "cache-control": "max-age=60",
        // The credential the upstream put in a header is masked like one in a body.
        location: "https://cdn.example.com/report.pdf?sig=[redacted]",
      },
    });
    equal(
      result.content[0].text,
      "The upstream API answered HTTP 200 to HEAD:\ncontent-type: application/pdf\n" +
        'content-length: 4321\netag: "report.pdf-v3"\nlast-modified: Tue, 03 Nov 2026 10:00:00 GMT\n' +
        "cache-control: max-age=60\nlocation: https://cdn.example.com/report.pdf?sig=[redacted]",
    );
    // Cookies and vendor headers are not passed on; the secret never is.
    ok(!got.text.includes("fake-session-id") && !got.text.includes("x-request-cost"), got.text);
    ok(!got.text.includes(SECRET_A), "the secret never reaches the caller");

    const missing = await post(app, callTool(tools.head, { arg: "missing" }), {
      key: tenant.key,
    });
    equal(missing.body.result.isError, true, missing.text);
    match(
      missing.body.result.content[0].text,
      /^The upstream API answered HTTP 404 Not Found to HEAD/,
    );
    equal(missing.body.result.structuredContent.status, 404);

    // A resource larger than any answer the function reads is still described: HEAD reads none.
    const big = await post(app, callTool(tools.head, { arg: "big.iso" }), { key: tenant.key });
    equal(big.body.result.isError, undefined, big.text);
    equal(big.body.result.structuredContent.headers["content-length"], "5000000");

    // Listed read-only, as defined.
    const listed = await post(app, listTools(), { key: tenant.key });
    const head = listed.body.result.tools.find((t: { name: string }) => t.name === tools.head);
    equal(head.annotations.readOnlyHint, true);
  });
});

Deno.test("tools/list serves HTTP tools from their stored definition, and nothing of the tenant's config", async () => {
  await withApis(async (api) => {
    const tenant = await httpTenant(
      [tools.get, "echo"],
      upstreamConfig(api, "acme", { type: "bearer", secret: "api_token" }),
    );
    await setSecret(tenant.slug, "api_token", SECRET_A);
    const app = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } });
    const listed = await post(app, listTools(), { key: tenant.key });
    deepStrictEqual(toolNames(listed), [tools.get, "echo"].sort());
    // deno-lint-ignore no-explicit-any
    const tool = listed.body.result.tools.find((t: any) => t.name === tools.get);
    equal(tool.title, "Get an order");
    deepStrictEqual(Object.keys(tool.inputSchema.properties).sort(), [
      "expand",
      "order_id",
      "tags",
      "trace",
    ]);
    deepStrictEqual(tool.inputSchema.required, ["order_id"]);
    equal(tool.annotations.readOnlyHint, true);
    ok(!listed.text.includes(SECRET_A) && !listed.text.includes(api.url), "no secret, no base URL");

    // Not enabled: neither listed nor callable.
    const other = await httpTenant(["echo"], {});
    deepStrictEqual(toolNames(await post(app, listTools(), { key: other.key })), ["echo"]);
    const denied = await post(app, callTool(tools.get, { order_id: "1" }), { key: other.key });
    ok(denied.body.error, denied.text);
  });
});

Deno.test("two tenants share one server; each upstream sees only its own tenant's credentials", async () => {
  await withApis(async (apiA, apiB) => {
    const a = await httpTenant(
      ALL,
      upstreamConfig(apiA, "a", { type: "bearer", secret: "api_token" }),
    );
    const b = await httpTenant(
      ALL,
      upstreamConfig(apiB, "b", { type: "header", header: "X-Api-Key", secret: "api_token" }),
    );
    await setSecret(a.slug, "api_token", SECRET_A);
    await setSecret(b.slug, "api_token", SECRET_B);
    const app = inProcessApp({ config: { upstreamAllowHosts: [apiA.hostPort, apiB.hostPort] } });

    const calls = Array.from({ length: 12 }, (_, i) => {
      const t = i % 2 === 0 ? a : b;
      return post(app, callTool(tools.get, { order_id: `o${i}` }), { key: t.key });
    });
    const replies = await Promise.all(calls);
    for (const reply of replies) equal(reply.body.result.isError, undefined, reply.text);
    equal(app.metrics.serverBuilds, 1, "one server for both tenants");

    equal(apiA.seen.length, 6);
    equal(apiB.seen.length, 6);
    for (const seen of apiA.seen) {
      equal(seen.headers.authorization, `Bearer ${SECRET_A}`);
      equal(seen.headers["x-api-key"], undefined);
      equal(seen.headers["x-client-id"], "a-client");
      ok(seen.path.startsWith("/t/a/orders/"));
    }
    for (const seen of apiB.seen) {
      equal(seen.headers["x-api-key"], SECRET_B);
      equal(seen.headers.authorization, undefined);
      equal(seen.headers["x-client-id"], "b-client");
      ok(seen.path.startsWith("/t/b/orders/"));
    }
    for (const [i, reply] of replies.entries()) {
      equal(reply.body.result.structuredContent.upstream, i % 2 === 0 ? "a" : "b");
    }
  });
});

Deno.test("upstream 4xx/5xx, timeouts and oversize answers are isError results; secrets stay out of results and logs", async () => {
  await withApis(async (api) => {
    const tenant = await httpTenant(
      ALL,
      upstreamConfig(api, "acme", { type: "bearer", secret: "api_token" }),
    );
    await setSecret(tenant.slug, "api_token", SECRET_A);
    const log = capturingLogger();
    const app = inProcessApp({
      config: { upstreamAllowHosts: [api.hostPort], upstreamMaxResponseBytes: 50_000 },
      log,
    });
    const call = async (tool: string, args: Record<string, unknown>) => {
      const reply = await post(app, callTool(tool, args), { key: tenant.key });
      ok(!reply.text.includes(SECRET_A), `secret leaked in ${reply.text.slice(0, 300)}`);
      return reply.body.result;
    };

    for (const code of [404, 422, 500, 503]) {
      const result = await call(tools.status, { arg: String(code) });
      equal(result.isError, true);
      const text: string = result.content[0].text;
      match(text, new RegExp(`^The upstream API answered HTTP ${code}`));
      match(text, new RegExp(`upstream says ${code}`));
      match(text, /\[redacted\]/, "the echoed credential is masked");
      match(text, /truncated: \d+ more characters/);
      ok(text.length < 1_300, `trimmed, got ${text.length} characters`);
    }

    const slow = await call(tools.slow, { arg: "x" });
    equal(slow.isError, true);
    match(slow.content[0].text, /did not answer within 300 ms/);

    const big = await call(tools.big, { arg: "x" });
    equal(big.isError, true);
    match(big.content[0].text, /more than 50000 bytes/);

    // A secret that can't be decrypted is a failure on our side: logged with a reference.
    await stack.psql(
      `update private.tenant_secrets set ciphertext = extensions.pgp_sym_encrypt('x', 'another key entirely, 32+ chars')
       where tenant_id = ${lit(tenant.id)}::uuid`,
    );
    const app2 = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] }, log });
    const broken = await post(app2, callTool(tools.get, { order_id: "1" }), { key: tenant.key });
    equal(broken.body.result.isError, true);
    match(broken.body.result.content[0].text, /failed unexpectedly \(reference [0-9a-f-]+\)/);
    ok(log.lines.some((line) => line.includes("cannot be decrypted")), log.lines.join("\n"));
    for (const line of log.lines) ok(!line.includes(SECRET_A), `secret in log: ${line}`);
  });
});

Deno.test("SSRF: private, loopback and metadata upstreams are refused unless the deployment allows them", async () => {
  await withApis(async (api) => {
    // A public-looking name whose DNS points at loopback; anything else resolves as usual.
    const resolve: Resolver = (host) =>
      host === "api.victim.example" ? Promise.resolve(["127.0.0.1"]) : systemResolver(host);
    const app = inProcessApp({ resolve }); // no allow-list
    const attempt = async (
      baseUrl: string,
      tool = tools.get,
      args: Record<string, unknown> = { order_id: "1" },
    ) => {
      const tenant = await httpTenant(ALL, {
        http: { base_url: baseUrl, auth: { type: "bearer", secret: "api_token" } },
      });
      await setSecret(tenant.slug, "api_token", SECRET_A);
      const reply = await post(app, callTool(tool, args), { key: tenant.key });
      equal(reply.body.result.isError, true, reply.text);
      ok(!reply.text.includes(SECRET_A));
      return reply.body.result.content[0].text as string;
    };
    match(
      await attempt(api.url),
      /Refused to call the upstream: 127\.0\.0\.1 is a loopback address/,
    );
    match(await attempt(`http://169.254.169.254/latest`), /link-local/);
    match(await attempt(`http://10.1.2.3`), /private/);
    match(await attempt(`http://[::ffff:7f00:1]:80`), /IPv4-mapped/);
    match(await attempt(`http://localhost:${api.port}`), /localhost resolves to 127\.0\.0\.1/);
    match(
      await attempt(`http://api.victim.example:${api.port}`),
      /api\.victim\.example resolves to 127\.0\.0\.1/,
    );
    match(await attempt(`http://metadata.google.internal`), /internal/);
    equal(api.seen.length, 0, "nothing reached the loopback server");

    // Allowed for development: the same server works, but a redirect from it to metadata doesn't.
    const dev = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } });
    const tenant = await httpTenant(
      ALL,
      upstreamConfig(api, "dev", { type: "bearer", secret: "api_token" }),
    );
    await setSecret(tenant.slug, "api_token", SECRET_A);
    const ok200 = await post(dev, callTool(tools.get, { order_id: "1" }), { key: tenant.key });
    equal(ok200.body.result.isError, undefined, ok200.text);
    const redirected = await post(
      dev,
      callTool(tools.redirect, { arg: "x", to: `http://169.254.169.254/latest/meta-data/` }),
      { key: tenant.key },
    );
    equal(redirected.body.result.isError, true);
    match(redirected.body.result.content[0].text, /169\.254\.169\.254 is a link-local address/);
  });
});

Deno.test("a missing upstream config or secret is an isError naming what an admin must set", async () => {
  await withApis(async (api) => {
    const app = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } });
    const noSecret = await httpTenant(
      ALL,
      upstreamConfig(api, "x", { type: "bearer", secret: "not_set_yet" }),
    );
    const reply = await post(app, callTool(tools.get, { order_id: "1" }), { key: noSecret.key });
    equal(reply.body.result.isError, true);
    match(reply.body.result.content[0].text, /credential "not_set_yet" is not set/);
    equal(api.seen.length, 0);
  });
});

Deno.test("editing a definition bumps its version; the new one is served once the key cache expires", async () => {
  await withApis(async (api) => {
    const name = await addHttpTool({ ...ORDERS_GET, path: "/v1/orders/{order_id}" });
    const tenant = await httpTenant([name], upstreamConfig(api, "acme", { type: "none" }));
    const app = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } });
    await post(app, callTool(name, { order_id: "1" }), { key: tenant.key });
    equal(api.seen.at(-1)!.path, "/t/acme/v1/orders/1");

    const version = await stack.psql(
      `update public.tool_catalog set definition = jsonb_set(definition, '{path}', '"/v2/orders/{order_id}"'),
         description = 'Gets an order (v2)'
       where name = ${lit(name)} returning version`,
    );
    equal(version.trim(), "2");
    await post(app, callTool(name, { order_id: "1" }), { key: tenant.key });
    equal(api.seen.at(-1)!.path, "/t/acme/v1/orders/1", "cached until the TTL passes");

    app.clock.advance(31_000);
    await post(app, callTool(name, { order_id: "1" }), { key: tenant.key });
    equal(api.seen.at(-1)!.path, "/t/acme/v2/orders/1");
    const listed = await post(app, listTools(), { key: tenant.key });
    equal(listed.body.result.tools[0].description, "Gets an order (v2)");
    equal(app.metrics.serverBuilds, 2, "a new version is a new server");
  });
});
