/**
 * `deno task admin` end to end: every command against the test stack, as a hosted project would be
 * reached (SUPABASE_URL + service key) and as the local dev stack is (its dev.json), with the MCP
 * endpoint seeing each change.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseWhen } from "../../scripts/admin.ts";
import { functionTtlMs, stack } from "../support/stack.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";

const SCRIPT = join(import.meta.dirname!, "..", "..", "scripts", "admin.ts");
const hosted = {
  SUPABASE_URL: stack.info.supabaseUrl,
  SUPABASE_SERVICE_ROLE_KEY: stack.info.serviceRoleKey,
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function admin(args: string[], env: Record<string, string> = hosted): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    env: { MCP_DEV_HOME: "/nonexistent", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  let json;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: out.code, stdout, stderr, json };
}

const ok0 = (run: Run) => {
  equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run.json;
};

const slug = () => `adm-${Date.now().toString(36)}`;
const wait = () => new Promise((resolve) => setTimeout(resolve, functionTtlMs() + 100));
const status = async (key: string) => {
  const reply = await post(stack.info.mcpUrl, listTools(), { key });
  return reply.status === 200 ? "OK" : reply.body.code;
};

Deno.test("admin: onboard, issue, enable, rotate, revoke and disable, seen by the endpoint", async () => {
  const s = slug();
  const created = ok0(
    await admin(["tenant", "create", s, "--name", "Admin Co", "--tools", "echo", "--json"]),
  );
  equal(created.slug, s);
  deepStrictEqual(created.enabled_tools, ["echo"]);

  const issued = ok0(
    await admin(["key", "issue", s, "--label", "laptop", "--expires", "90d", "--json"]),
  );
  match(issued.key, /^mcpk_[0-9a-f]{12}_[0-9a-f]{70}$/);
  equal(issued.label, "laptop");
  ok(Date.parse(issued.expires_at) > Date.now() + 89 * 86_400_000);
  deepStrictEqual(toolNames(await post(stack.info.mcpUrl, listTools(), { key: issued.key })), [
    "echo",
  ]);

  ok0(await admin(["tools", "enable", s, "tenant_info", "--json"]));
  await wait();
  deepStrictEqual(
    toolNames(await post(stack.info.mcpUrl, listTools(), { key: issued.key })),
    ["echo", "tenant_info"],
  );
  const disabled = ok0(await admin(["tools", "disable", s, "echo", "--json"]));
  deepStrictEqual(disabled.enabled_tools, ["tenant_info"]);
  const set = ok0(await admin(["tools", "set", s, "echo,tenant_info", "--json"]));
  deepStrictEqual(set.enabled_tools, ["echo", "tenant_info"]);

  const rotated = ok0(
    await admin(["key", "rotate", issued.key_id, "--old-expires", "1h", "--json"]),
  );
  equal(rotated.replaces, issued.key_id);
  equal(await status(rotated.key), "OK");
  equal(await status(issued.key), "OK", "the old key works during the overlap");

  const revoked = ok0(await admin(["key", "revoke", `mcpk_${issued.key_id}`, "--json"]));
  equal(revoked.state, "revoked");
  await wait();
  equal(await status(issued.key), "KEY_REVOKED");
  equal(await status(rotated.key), "OK");

  const keys = ok0(await admin(["key", "list", s, "--json"]));
  deepStrictEqual(keys.map((k: { state: string }) => k.state), ["revoked", "active"]);

  ok0(await admin(["tenant", "status", s, "disabled", "--json"]));
  await wait();
  equal(await status(rotated.key), "TENANT_DISABLED");
  const shown = ok0(await admin(["tenant", "show", s, "--json"]));
  equal(shown.status, "disabled");
  equal(shown.active_keys, 1);

  const config = ok0(await admin(["tenant", "config", s, '{"region":"eu"}', "--json"]));
  deepStrictEqual(config.config, { region: "eu" });
  const tenants = ok0(await admin(["tenant", "list", "--json"]));
  ok(tenants.some((t: { slug: string }) => t.slug === s));
  const tools = ok0(await admin(["tools", "list", "--json"]));
  ok(
    tools.some((t: { name: string; family: string }) =>
      t.name === "echo" && t.family === "builtin"
    ),
  );
});

Deno.test("admin: nothing any command prints contains a key hash", async () => {
  const s = slug();
  ok0(await admin(["tenant", "create", s, "--name", "Hash Check", "--tools", "echo", "--json"]));
  const issued = ok0(await admin(["key", "issue", s, "--json"]));
  const hashes = (await stack.psql(`select string_agg(key_hash, ' ') from public.api_keys`)).trim()
    .split(" ");
  const outputs = [
    JSON.stringify(issued),
    (await admin(["key", "list", "--json"])).stdout,
    (await admin(["key", "list", s])).stdout,
    (await admin(["key", "rotate", issued.key_id, "--json"])).stdout,
    (await admin(["key", "revoke", issued.key_id, "--json"])).stdout,
    (await admin(["tenant", "list", "--json"])).stdout,
    (await admin(["tenant", "show", s, "--json"])).stdout,
  ];
  for (const output of outputs) {
    ok(!output.includes("key_hash"), output);
    for (const hash of hashes) ok(!output.includes(hash), "a key hash was printed");
  }
});

Deno.test("admin: without --json, people get readable lines; the key is shown once", async () => {
  const s = slug();
  const created = await admin(["tenant", "create", s, "--name", "Plain Co"]);
  equal(created.code, 0);
  match(created.stdout, new RegExp(`^${s}  \\(Plain Co\\)  active\\n  tools: \\(none\\)`));
  const issued = await admin(["key", "issue", s]);
  match(issued.stdout, /^key: mcpk_[0-9a-f]{12}_[0-9a-f]{70}\n {2}Shown once/);
  const listed = await admin(["key", "list", s]);
  match(listed.stdout, /^mcpk_[0-9a-f]{12}… {2}adm-\S+ {2}active/);
  ok(!listed.stdout.includes(issued.stdout.slice(5, 90)), "the key itself is not listed");
});

Deno.test("admin: mistakes are one clear line on stderr and exit status 1", async () => {
  const s = slug();
  const cases: [string[], RegExp][] = [
    [["tenant", "show", "no-such-tenant"], /No tenant with slug "no-such-tenant"\. List tenants/],
    [
      ["tenant", "create", s, "--name", "X", "--tools", "echo,ecko"],
      /unknown tool: ecko\. Valid tools: .*echo/,
    ],
    [["tenant", "create", "Bad Slug", "--name", "X"], /tenants_slug_format/],
    [["tenant", "create", s], /needs --name/],
    [["tenant", "status", "demo", "paused"], /must be active or disabled/],
    [["tenant", "config", "demo", "{oops"], /must be JSON/],
    [["key", "issue", "demo", "--expires", "someday"], /"someday" is not a time/],
    [["key", "revoke", "xyz"], /not a key id/],
    [["key", "revoke", "abcdefabcdef"], /No API key with id "abcdefabcdef"/],
    [["frobnicate"], /Unknown command "frobnicate"/],
  ];
  for (const [args, expected] of cases) {
    const run = await admin(args);
    equal(run.code, 1, `${args.join(" ")} should fail`);
    const lines = run.stderr.trim().split("\n");
    equal(lines.length, 1, `one line for ${args.join(" ")}: ${run.stderr}`);
    match(lines[0], /^admin: /);
    match(lines[0], expected);
  }
  const json = await admin(["tenant", "show", "no-such-tenant", "--json"]);
  equal(json.code, 1);
  match(json.json.error, /No tenant with slug/);
});

Deno.test("admin: reaches the local dev stack through its dev.json by default", async () => {
  const home = await Deno.makeTempDir();
  try {
    const none = await admin(["tenant", "list"], { MCP_DEV_HOME: home });
    equal(none.code, 1);
    match(none.stderr, /No local stack found: start it with `deno task dev`/);
    await Deno.writeTextFile(
      join(home, "dev.json"),
      JSON.stringify({
        supabase_url: stack.info.supabaseUrl,
        service_role_key: stack.info.serviceRoleKey,
      }),
    );
    const tenants = ok0(await admin(["tenant", "list", "--json"], { MCP_DEV_HOME: home }));
    ok(tenants.some((t: { slug: string }) => t.slug === "demo"));
    const missingKey = await admin(["tenant", "list"], { SUPABASE_URL: stack.info.supabaseUrl });
    match(missingKey.stderr, /no service key/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("admin: times are ISO, now, or a duration from now", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  equal(parseWhen("now", now), "2026-01-01T00:00:00.000Z");
  equal(parseWhen("30m", now), "2026-01-01T00:30:00.000Z");
  equal(parseWhen("24h", now), "2026-01-02T00:00:00.000Z");
  equal(parseWhen("90d", now), "2026-04-01T00:00:00.000Z");
  equal(parseWhen("2027-05-01T12:00:00Z", now), "2027-05-01T12:00:00.000Z");
});

Deno.test("admin: a tool call still works for a tenant made from the command line", async () => {
  const s = slug();
  ok0(await admin(["tenant", "create", s, "--name", "Caller Co", "--tools", "echo", "--json"]));
  const { key } = ok0(await admin(["key", "issue", s, "--json"]));
  const reply = await post(stack.info.mcpUrl, callTool("echo", { text: "from the cli" }), { key });
  equal(reply.body.result.content[0].text, "from the cli");
});

Deno.test("admin: users, members and narrowed keys, seen by the endpoint", async () => {
  const s = slug();
  ok0(
    await admin([
      "tenant",
      "create",
      s,
      "--name",
      "People Co",
      "--tools",
      "echo,crm_read,crm_write",
      "--json",
    ]),
  );
  const email = `${s}@example.com`;
  const created = ok0(await admin(["user", "create", email, "--password", "pw-123456", "--json"]));
  match(created.id, /^[0-9a-f-]{36}$/);
  equal((await admin(["user", "create", email, "--json"])).code, 1, "an email is taken once");

  const added = ok0(await admin(["member", "add", s, email, "--role", "member", "--json"]));
  deepStrictEqual([added.tenant, added.email, added.role], [s, email, "member"]);
  const listed = ok0(await admin(["member", "list", s, "--json"]));
  deepStrictEqual(listed.map((m: { email: string }) => m.email), [email]);

  const token = ok0(await admin(["user", "token", email, "--password", "pw-123456", "--json"]));
  equal(token.claims.tenant_role, "member", "the access token hook ran");
  deepStrictEqual(
    toolNames(await post(stack.info.mcpUrl, listTools(), { key: token.access_token })),
    ["crm_read", "echo"],
  );
  const oauth = ok0(
    await admin(["user", "token", email, "--password", "pw-123456", "--oauth", "--json"]),
  );
  match(oauth.claims.client_id, /^[0-9a-f-]{36}$/, "an OAuth token names its client");
  equal((await post(stack.info.mcpUrl, listTools(), { key: oauth.access_token })).status, 200);

  const wrong = await admin(["user", "token", email, "--password", "nope", "--json"]);
  equal(wrong.code, 1);
  match(wrong.json.error, /Invalid login credentials/);

  ok0(await admin(["member", "remove", s, email, "--json"]));
  equal((await admin(["member", "remove", s, email, "--json"])).code, 1);
  await wait();
  equal(await status(token.access_token), "NOT_A_MEMBER");

  const issued = ok0(await admin(["key", "issue", s, "--json"]));
  const narrowed = ok0(await admin(["key", "tools", issued.key_id, "echo", "--json"]));
  deepStrictEqual(narrowed.allowed_tools, ["echo"]);
  deepStrictEqual(toolNames(await post(stack.info.mcpUrl, listTools(), { key: issued.key })), [
    "echo",
  ]);
  ok0(await admin(["key", "tools", issued.key_id, "all", "--json"]));
  await wait();
  equal(
    toolNames(await post(stack.info.mcpUrl, listTools(), { key: issued.key })).length,
    3,
  );
  const called = await post(stack.info.mcpUrl, callTool("echo", { text: "hi" }), {
    key: issued.key,
  });
  deepStrictEqual(called.body.result.content, [{ type: "text", text: "hi" }]);
});
