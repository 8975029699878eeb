/**
 * Remote MCP servers as a tool source: real local servers built with the official SDKs in both
 * protocol eras (one slow, one failing, one changing its list), attached through the SQL
 * functions, served by the real app against the real stack.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Logger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import { adminCli } from "../support/admin_cli.ts";
import { inProcessApp, lit, tenantWithKey } from "../support/fixtures.ts";
import { setSecret } from "../support/http_fixtures.ts";
import { callTool, listTools, post, rpc, toolNames } from "../support/mcp_client.ts";
import { type RemoteMcp, type RemoteMcpOptions, startRemoteMcp } from "../support/remote_mcp.ts";
import { stack } from "../support/stack.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const REMOTE_TOOLS = [
  "big",
  "crash",
  "echo",
  "flood",
  "leak",
  "note",
  "paced",
  "refuse",
  "sleep",
  "steps",
];

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (event: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, event, ...fields }));
  };
  return { lines, info: add("info"), error: add("error") };
}

async function attach(
  slug: string,
  prefix: string,
  url: string,
  secret: string | null = null,
  allowed: string[] | null = null,
) {
  return JSON.parse(
    await stack.psql(`select public.attach_remote_server(${lit(slug)}, ${lit(prefix)}, ${lit(url)},
      ${secret ? lit(secret) : "null"},
      ${allowed ? `array[${allowed.map(lit).join(",")}]::text[]` : "null"})`),
  );
}

async function withRemotes(
  list: RemoteMcpOptions[],
  fn: (...remotes: RemoteMcp[]) => Promise<void>,
) {
  const remotes = list.map(startRemoteMcp);
  try {
    await fn(...remotes);
  } finally {
    for (const remote of remotes) await remote.close();
  }
}

function app(remotes: RemoteMcp[], extra: Record<string, unknown> = {}) {
  const log = capturingLogger();
  const instance = inProcessApp({
    config: {
      upstreamAllowHosts: remotes.map((r) => r.hostPort),
      // Generous: a loaded machine must not make a healthy server look unreachable.
      remoteListTimeoutMs: 10_000,
      ...extra,
    },
    log,
  });
  return { ...instance, log };
}

Deno.test("both eras: remote tools listed under their prefix with schemas and hints, calls forwarded with the tenant's credential", async () => {
  const token = `remote-${crypto.randomUUID()}`;
  await withRemotes([
    { era: "modern", token },
    { era: "legacy", token },
  ], async (modern, legacy) => {
    const t = await tenantWithKey(["echo"]);
    await setSecret(t.slug, "mcp_token", token);
    await attach(t.slug, "new_", modern.url, "mcp_token");
    await attach(t.slug, "old_", legacy.url, "mcp_token");
    const a = app([modern, legacy]);

    const listed = await post(a, listTools(), { key: t.key });
    deepStrictEqual(toolNames(listed), [
      "echo",
      ...REMOTE_TOOLS.map((n) => `new_${n}`),
      ...REMOTE_TOOLS.map((n) => `old_${n}`),
    ]);
    for (const prefix of ["new_", "old_"]) {
      const echo = listed.body.result.tools.find((tool: Any) => tool.name === `${prefix}echo`);
      equal(echo.description, "Echoes text back.");
      equal(echo.inputSchema.properties.text.type, "string");
      equal(echo.annotations.readOnlyHint, true);
    }

    for (const prefix of ["new_", "old_"]) {
      const got = await post(a, callTool(`${prefix}echo`, { text: "hi" }), { key: t.key });
      deepStrictEqual(got.body.result.content, [{ type: "text", text: "echo: hi" }], got.text);
      ok(!got.text.includes(token));
      ok(!got.text.includes("remote-modern"), "the upstream's own _meta is not passed on");
    }
    ok(modern.authorizations.every((h) => h === `Bearer ${token}`));
    ok(legacy.authorizations.every((h) => h === `Bearer ${token}`));
    ok(!a.log.lines.join("\n").includes(token), "the credential is never logged");
  });
});

Deno.test("progress and log messages from a remote tool are relayed to the caller's stream", async () => {
  await withRemotes([{ era: "modern" }, { era: "legacy" }], async (modern, legacy) => {
    const t = await tenantWithKey([]);
    await attach(t.slug, "new_", modern.url);
    await attach(t.slug, "old_", legacy.url);
    const a = app([modern, legacy]);
    for (const prefix of ["new_", "old_"]) {
      const got = await post(
        a,
        rpc("tools/call", {
          name: `${prefix}steps`,
          arguments: {},
          _meta: { progressToken: "p1" },
        }),
        { key: t.key },
      );
      const progress = got.messages.filter((m) => m.method === "notifications/progress");
      deepStrictEqual(progress.map((m) => [m.params.progressToken, m.params.progress]), [
        ["p1", 1],
        ["p1", 2],
      ], got.text);
      deepStrictEqual(got.body.result.content, [{ type: "text", text: "done" }]);

      const noted = await post(a, callTool(`${prefix}note`, {}), { key: t.key });
      const logs = noted.messages.filter((m) => m.method === "notifications/message");
      deepStrictEqual(logs.map((m) => [m.params.level, m.params.data]), [
        ["warning", "halfway there"],
      ], noted.text);
      deepStrictEqual(noted.body.result.content, [{ type: "text", text: "noted" }]);
    }
  });
});

Deno.test("upstream errors become isError results naming the source; secrets never come back", async () => {
  const token = `remote-${crypto.randomUUID()}`;
  await withRemotes([{ era: "modern", token }], async (modern) => {
    const t = await tenantWithKey([]);
    await setSecret(t.slug, "mcp_token", token);
    await attach(t.slug, "up_", modern.url, "mcp_token");
    const a = app([modern]);
    const refused = await post(a, callTool("up_refuse", {}), { key: t.key });
    equal(refused.body.result.isError, true);
    match(refused.body.result.content[0].text, /remote MCP server "up_" \(127\.0\.0\.1:\d+\)/);
    // The server quoted the credential back; it is replaced before the agent sees it.
    equal(refused.body.result.content[1].text, "quota exceeded for [redacted]");
    ok(!refused.text.includes(token));
    // Notifications relayed from the server are redacted the same way.
    const steps = await post(
      a,
      rpc("tools/call", { name: "up_steps", arguments: {}, _meta: { progressToken: "s" } }),
      { key: t.key },
    );
    deepStrictEqual(
      steps.messages.filter((m) => m.method === "notifications/progress")
        .map((m) => m.params.message),
      ["step 1 for [redacted]", "step 2 for [redacted]"],
      steps.text,
    );
    const noted = await post(a, callTool("up_note", {}), { key: t.key });
    deepStrictEqual(
      noted.messages.filter((m) => m.method === "notifications/message").map((m) => m.params.data),
      [{ text: "halfway there", auth: ["[redacted]"] }],
      noted.text,
    );
    ok(!steps.text.includes(token) && !noted.text.includes(token));
    // Not only text: embedded resources and structured content are redacted as well.
    const leaked = await post(a, callTool("up_leak", {}), { key: t.key });
    ok(!leaked.text.includes(token), leaked.text);
    deepStrictEqual(leaked.body.result.content[1].resource.text, "[redacted]");
    deepStrictEqual(leaked.body.result.structuredContent, {
      auth: "[redacted]",
      nested: [{ token: "[redacted]" }],
    });
    const crashed = await post(a, callTool("up_crash", {}), { key: t.key });
    equal(crashed.body.result.isError, true, crashed.text);
    match(crashed.body.result.content[0].text, /remote MCP server "up_"/);
    match(JSON.stringify(crashed.body.result), /database on fire/);
    ok(!crashed.text.includes("stack"));
    // Arguments the remote server refuses come back as its error, not a protocol failure.
    const invalid = await post(a, callTool("up_echo", { text: 42 }), { key: t.key });
    equal(invalid.status, 200);
    ok(invalid.body.result?.isError || invalid.body.error, invalid.text);
    ok(!invalid.text.includes(token));
  });
});

Deno.test("forwarded calls keep the upstream timeout and size cap, and say which server it was", async () => {
  await withRemotes([{ era: "modern" }, { era: "legacy" }], async (modern, legacy) => {
    const t = await tenantWithKey([]);
    await attach(t.slug, "new_", modern.url);
    await attach(t.slug, "old_", legacy.url);
    const a = app([modern, legacy], { upstreamTimeoutMs: 1_500, upstreamMaxResponseBytes: 20_000 });
    for (const prefix of ["new_", "old_"]) {
      const started = performance.now();
      const slow = await post(a, callTool(`${prefix}sleep`, { ms: 5_000 }), { key: t.key });
      ok(performance.now() - started < 4_000, "the call is cut at the timeout");
      equal(slow.body.result.isError, true, slow.text);
      match(
        slow.body.result.content[0].text,
        new RegExp(`remote MCP server "${prefix}".*within 1500 ms`),
      );

      const big = await post(a, callTool(`${prefix}big`, { chars: 50_000 }), { key: t.key });
      equal(big.body.result.isError, true, big.text.slice(0, 300));
      match(
        big.body.result.content[0].text,
        new RegExp(`remote MCP server "${prefix}".*(large|bytes)`, "i"),
      );
      const small = await post(a, callTool(`${prefix}big`, { chars: 100 }), { key: t.key });
      equal(small.body.result.content[0].text, "x".repeat(100));
    }
  });
});

Deno.test("a failing, a slow and an unreachable server each lose only their own tools, within the bound", async () => {
  const secret = `s-${crypto.randomUUID()}`;
  await withRemotes([
    { era: "modern" },
    { era: "modern", broken: "upstream exploded" },
    { era: "legacy", delayMs: 8_000 },
  ], async (good, broken, slow) => {
    const t = await tenantWithKey(["echo"]);
    await setSecret(t.slug, "mcp_token", secret);
    await attach(t.slug, "good_", good.url);
    await attach(t.slug, "bad_", broken.url, "mcp_token");
    await attach(t.slug, "slow_", slow.url);
    await attach(t.slug, "gone_", "http://127.0.0.1:9/mcp");
    const a = app([good, broken, slow, { hostPort: "127.0.0.1:9" } as RemoteMcp], {
      remoteListTimeoutMs: 1_500,
    });

    const started = performance.now();
    const listed = await post(a, listTools(), { key: t.key });
    const elapsed = performance.now() - started;
    deepStrictEqual(toolNames(listed), ["echo", ...REMOTE_TOOLS.map((n) => `good_${n}`)]);
    // The slow server answers after 8 s; the list is bounded at 1.5 s (plus a loaded machine).
    ok(elapsed < 5_000, `tools/list took ${elapsed} ms with a 1.5 s list bound`);
    const logged = a.log.lines.filter((line) => line.includes("remote_tools_unavailable"));
    deepStrictEqual(
      logged.map((line) => JSON.parse(line).server).sort(),
      ["bad_", "gone_", "slow_"],
    );
    ok(!logged.join("\n").includes(secret), "the echoed credential is not logged");

    // Failures are remembered briefly: the next list doesn't wait again.
    const again = performance.now();
    await post(a, listTools(), { key: t.key });
    ok(performance.now() - again < 500);
  });
});

Deno.test("a changed upstream tool list is served within the TTL, as a new fingerprint", async () => {
  await withRemotes([{ era: "legacy" }], async (remote) => {
    const t = await tenantWithKey([]);
    await attach(t.slug, "ch_", remote.url, null, null);
    const a = app([remote], { remoteToolsTtlMs: 10_000 });
    const names = async () => toolNames(await post(a, listTools(), { key: t.key }));
    deepStrictEqual(await names(), REMOTE_TOOLS.map((n) => `ch_${n}`));
    remote.extraTools.set("fresh", "Appeared later.");
    deepStrictEqual(await names(), REMOTE_TOOLS.map((n) => `ch_${n}`), "cached within the TTL");
    const builds = a.metrics.serverBuilds;
    a.clock.advance(10_001);
    deepStrictEqual(await names(), [...REMOTE_TOOLS, "fresh"].sort().map((n) => `ch_${n}`));
    equal(a.metrics.serverBuilds, builds + 1, "a new tool list is a new server");
    const fresh = await post(a, callTool("ch_fresh", {}), { key: t.key });
    deepStrictEqual(fresh.body.result.content, [{ type: "text", text: "fresh" }]);
  });
});

Deno.test("allow-list: only the named remote tools are served, and only those can be called", async () => {
  await withRemotes([{ era: "modern" }], async (remote) => {
    const t = await tenantWithKey([]);
    await attach(t.slug, "al_", remote.url, null, ["echo"]);
    const a = app([remote]);
    deepStrictEqual(toolNames(await post(a, listTools(), { key: t.key })), ["al_echo"]);
    const denied = await post(a, callTool("al_crash", {}), { key: t.key });
    ok(denied.body.error || denied.body.result?.isError, denied.text);
  });
});

Deno.test("isolation: tenants with the same prefix on different servers, interleaved on one app", async () => {
  const tokenA = `a-${crypto.randomUUID()}`;
  const tokenB = `b-${crypto.randomUUID()}`;
  await withRemotes([
    { era: "modern", token: tokenA },
    { era: "legacy", token: tokenB },
  ], async (serverA, serverB) => {
    serverA.extraTools.set("alpha", "A only");
    serverB.extraTools.set("beta", "B only");
    const a = await tenantWithKey(["echo"]);
    const b = await tenantWithKey(["echo"]);
    await setSecret(a.slug, "mcp_token", tokenA);
    await setSecret(b.slug, "mcp_token", tokenB);
    await attach(a.slug, "x_", serverA.url, "mcp_token");
    await attach(b.slug, "x_", serverB.url, "mcp_token");
    const shared = app([serverA, serverB]);

    for (let round = 0; round < 3; round++) {
      const [listA, listB, callA, callB, crossA, crossB] = await Promise.all([
        post(shared, listTools(), { key: a.key }),
        post(shared, listTools(), { key: b.key }),
        post(shared, callTool("x_alpha", {}), { key: a.key }),
        post(shared, callTool("x_beta", {}), { key: b.key }),
        post(shared, callTool("x_beta", {}), { key: a.key }),
        post(shared, callTool("x_alpha", {}), { key: b.key }),
      ]);
      ok(toolNames(listA).includes("x_alpha") && !toolNames(listA).includes("x_beta"));
      ok(toolNames(listB).includes("x_beta") && !toolNames(listB).includes("x_alpha"));
      equal(callA.body.result.content[0].text, "alpha");
      equal(callB.body.result.content[0].text, "beta");
      ok(crossA.body.error || crossA.body.result?.isError, crossA.text);
      ok(crossB.body.error || crossB.body.result?.isError, crossB.text);
    }
    ok(serverA.authorizations.every((h) => h === `Bearer ${tokenA}`), "A's server saw only A");
    ok(serverB.authorizations.every((h) => h === `Bearer ${tokenB}`), "B's server saw only B");
    // The admin view names the secret, never its value.
    const listed = JSON.parse(
      await stack.psql(`select public.list_remote_servers(${lit(a.slug)})`),
    );
    equal(listed[0].secret, "mcp_token");
    ok(!JSON.stringify(listed).includes(tokenA));
  });
});

Deno.test("the address policy applies: a private address not allowed is never contacted", async () => {
  await withRemotes([{ era: "modern" }], async (remote) => {
    const t = await tenantWithKey(["echo"]);
    await attach(t.slug, "in_", remote.url);
    const a = app([]);
    deepStrictEqual(toolNames(await post(a, listTools(), { key: t.key })), ["echo"]);
    equal(remote.authorizations.length, 0);
    match(
      a.log.lines.join("\n"),
      /remote_tools_unavailable.*(loopback|private|refused|not allowed)/i,
    );
  });
});

Deno.test("attach is checked on save: prefix, URL, secret name", async () => {
  const t = await tenantWithKey([]);
  const refused = async (sql: string, pattern: RegExp) => {
    let message = "";
    try {
      await stack.psql(sql);
    } catch (err) {
      message = String(err);
    }
    match(message, pattern);
  };
  await refused(
    `select public.attach_remote_server(${lit(t.slug)}, 'Bad', 'https://x.example/mcp')`,
    /remote_mcp_servers_prefix_format/,
  );
  await refused(
    `select public.attach_remote_server(${lit(t.slug)}, 'ok_', 'https://user:pw@x.example/mcp')`,
    /remote_mcp_servers_url_format/,
  );
  await refused(
    `select public.attach_remote_server(${
      lit(t.slug)
    }, 'ok_', 'https://x.example/mcp', 'Bad Name')`,
    /remote_mcp_servers_secret_format/,
  );
  await refused(
    `select public.detach_remote_server(${lit(t.slug)}, 'nope_')`,
    /no remote server with prefix/,
  );
});

Deno.test("admin CLI: remote attach, list and detach, seen by the endpoint", async () => {
  await withRemotes([{ era: "modern" }], async (remote) => {
    const t = await tenantWithKey(["echo"]);
    const run = (args: string[]) => adminCli([...args, "--json"]);
    const attached = await run(["remote", "attach", t.slug, "cli_", remote.url, "--tools", "echo"]);
    equal(attached.code, 0);
    deepStrictEqual([attached.json.prefix, attached.json.allowed_tools], ["cli_", ["echo"]]);
    const listed = await run(["remote", "list", t.slug]);
    deepStrictEqual(listed.json.map((r: Any) => r.url), [remote.url]);
    deepStrictEqual(toolNames(await post(app([remote]), listTools(), { key: t.key })), [
      "cli_echo",
      "echo",
    ]);
    equal((await run(["remote", "detach", t.slug, "cli_"])).code, 0);
    deepStrictEqual(toolNames(await post(app([remote]), listTools(), { key: t.key })), ["echo"]);
    const bad = await run(["remote", "attach", t.slug, "Nope", remote.url]);
    equal(bad.code, 1);
    match(bad.json.error, /prefix_format/);
  });
});
