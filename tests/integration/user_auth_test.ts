/**
 * People as callers, against the real stack: Supabase Auth access tokens verified locally, tenant
 * membership from the database, the access token hook's tenant claim, roles and narrowed keys
 * reading one effective tool set, and every refusal a person can act on.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { inProcessApp, lit, tenantWithKey, type TestApp } from "../support/fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import {
  addMember,
  claimsFor,
  createUser,
  mint,
  mintHs256,
  otherProjectKey,
  signIn,
  userAuthConfig,
} from "../support/users.ts";
import type { Config } from "../../supabase/functions/mcp-tools-server/config.ts";

const TTL = 10_000;
const app = (
  extra: Partial<Config["userAuth"]> = {},
  options: Parameters<typeof inProcessApp>[0] = {},
) =>
  inProcessApp({
    ...options,
    config: { tenantCacheTtlMs: TTL, ...userAuthConfig(extra), ...options.config },
  });

const TENANT_URL = (fn: TestApp, slug: string) => fn.url.replace(/\/mcp$/, `/t/${slug}/mcp`);

Deno.test("users: a member signed in with Supabase Auth lists and calls the tenant's tools", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const token = await signIn(user);

  const listed = await post(fn, listTools(), { key: token });
  equal(listed.status, 200, listed.text);
  deepStrictEqual(toolNames(listed), ["echo", "tenant_info"]);
  const info = await post(fn, callTool("tenant_info"), { key: token });
  equal(info.body.result.structuredContent.tenant.slug, t.slug);
  const echoed = await post(fn, callTool("echo", { text: "hi" }), { key: token });
  deepStrictEqual(echoed.body.result.content, [{ type: "text", text: "hi" }]);
});

Deno.test("users: the access token hook names the active tenant; the URL may name another", async () => {
  const fn = app();
  const first = await tenantWithKey(["tenant_info"]);
  const second = await tenantWithKey(["tenant_info", "echo"]);
  const user = await createUser();
  await addMember(first.slug, user, "owner");
  await addMember(second.slug, user, "owner");

  const token = await signIn(user);
  const claims = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
  equal(claims.tenant_id, first.id, "the hook picks the tenant joined first");
  equal(claims.tenant_role, "owner");
  const byClaim = await post(fn, callTool("tenant_info"), { key: token });
  equal(byClaim.body.result.structuredContent.tenant.slug, first.slug);

  // A client that can't send headers connects to the tenant's URL instead.
  const byUrl = await post({ ...fn, url: TENANT_URL(fn, second.slug) }, callTool("tenant_info"), {
    key: token,
  });
  equal(byUrl.body.result.structuredContent.tenant.slug, second.slug);

  // app_metadata.active_tenant moves the hook's choice.
  await stack.psql(`update auth.users set raw_app_meta_data = raw_app_meta_data ||
    jsonb_build_object('active_tenant', ${lit(second.slug)}) where id = ${lit(user.id)}`);
  const moved = JSON.parse(
    atob((await signIn(user)).split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
  );
  equal(moved.tenant_id, second.id);

  // Without the hook's claim, a user in several tenants must choose.
  const bare = await mint(claimsFor(user));
  const unchosen = await post(fn, listTools(), { key: bare });
  equal(unchosen.status, 400);
  equal(unchosen.body.code, "TENANT_NOT_CHOSEN");
  match(unchosen.body.error, new RegExp(`/t/${first.slug}/mcp`));
});

Deno.test("users: a member of tenant A can't reach tenant B, by URL or by claim", async () => {
  const fn = app();
  const a = await tenantWithKey(["tenant_info"]);
  const b = await tenantWithKey(["tenant_info"]);
  const user = await createUser();
  await addMember(a.slug, user, "owner");
  const token = await signIn(user);

  const byUrl = await post({ ...fn, url: TENANT_URL(fn, b.slug) }, listTools(), { key: token });
  equal(byUrl.status, 403);
  equal(byUrl.body.code, "NOT_A_MEMBER");
  match(byUrl.body.error, new RegExp(`not a member of tenant "${b.slug}"`));

  // Even a token naming B (a hook gone wrong) reaches nothing: membership is the database's.
  const forged = await mint(claimsFor(user, { tenant_id: b.id, tenant_role: "owner" }));
  const byClaim = await post(fn, callTool("tenant_info"), { key: forged });
  equal(byClaim.status, 403);
  equal(byClaim.body.code, "NOT_A_MEMBER");

  // An API key of B on A's URL is refused too.
  const wrong = await post({ ...fn, url: TENANT_URL(fn, a.slug) }, listTools(), { key: b.key });
  equal(wrong.status, 403);
  equal(wrong.body.code, "WRONG_TENANT");
});

Deno.test("users: user and key callers interleaved on one shared server each get their own tenant", async () => {
  const fn = app();
  const tools = ["echo", "tenant_info"];
  const a = await tenantWithKey(tools);
  const b = await tenantWithKey(tools);
  const user = await createUser();
  await addMember(a.slug, user, "admin");
  const token = await signIn(user);
  const calls = Array.from(
    { length: 40 },
    (_, i) =>
      i % 2 === 0
        ? post(fn, callTool("tenant_info"), { key: token }).then((r) => [a.slug, r] as const)
        : post(fn, callTool("tenant_info"), { key: b.key }).then((r) => [b.slug, r] as const),
  );
  for (const [slug, reply] of await Promise.all(calls)) {
    equal(reply.body.result.structuredContent.tenant.slug, slug);
  }
  equal(fn.metrics.serverBuilds, 1, "both callers share the server of their equal tool set");
});

Deno.test("users: a member gets the read-only tools only; owners and admins get all", async () => {
  const fn = app();
  const t = await tenantWithKey(["crm_read", "crm_write", "echo"]);
  const member = await createUser("member");
  const owner = await createUser("owner");
  await addMember(t.slug, member, "member");
  await addMember(t.slug, owner, "owner");
  const memberToken = await signIn(member);

  deepStrictEqual(toolNames(await post(fn, listTools(), { key: memberToken })), [
    "crm_read",
    "echo",
  ]);
  deepStrictEqual(toolNames(await post(fn, listTools(), { key: await signIn(owner) })), [
    "crm_read",
    "crm_write",
    "echo",
  ]);
  const write = await post(
    fn,
    callTool("crm_write", {
      operation: { action: "create", entity: "company", fields: { name: "Nope" } },
    }),
    { key: memberToken },
  );
  equal(write.body.error.code, -32602, "a member can't call what it can't list");
  equal(
    (await stack.psql(`select count(*) from public.crm_companies where tenant_id = '${t.id}'`))
      .trim(),
    "0",
  );
});

Deno.test("keys: a narrowed key lists and calls only its tools, and shares servers by effective set", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const narrow = await stack.psql(`select public.issue_api_key(${lit(t.slug)}) ->> 'key'`);
  const narrowKey = narrow.trim();
  await stack.psql(`select public.set_key_tools(${lit(narrowKey.slice(5, 17))}, '{echo}')`);
  const only = await tenantWithKey(["echo"]);

  deepStrictEqual(toolNames(await post(fn, listTools(), { key: narrowKey })), ["echo"]);
  const refused = await post(fn, callTool("tenant_info"), { key: narrowKey });
  equal(refused.body.error.code, -32602);
  deepStrictEqual(toolNames(await post(fn, listTools(), { key: t.key })), ["echo", "tenant_info"]);
  deepStrictEqual(toolNames(await post(fn, listTools(), { key: only.key })), ["echo"]);
  equal(fn.metrics.serverBuilds, 2, "the narrowed key shares the server of tenants serving echo");

  // Rotation keeps the narrowing.
  const rotated = await stack.psql(
    `select public.rotate_api_key(${lit(narrowKey.slice(5, 17))}) ->> 'key'`,
  );
  deepStrictEqual(toolNames(await post(fn, listTools(), { key: rotated.trim() })), ["echo"]);
});

Deno.test("users: removing a member takes effect within the cache TTL", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const token = await signIn(user);
  equal((await post(fn, listTools(), { key: token })).status, 200);
  await stack.psql(`select public.remove_member(${lit(t.slug)}, ${lit(user.email)})`);
  fn.clock.advance(TTL - 1);
  equal((await post(fn, listTools(), { key: token })).status, 200, "cached within the TTL");
  fn.clock.advance(2);
  const after = await post(fn, listTools(), { key: token });
  equal(after.status, 403);
  equal(after.body.code, "NOT_A_MEMBER");
});

Deno.test("users: a user in no tenant gets a clear 403", async () => {
  const fn = app();
  const user = await createUser();
  const reply = await post(fn, listTools(), { key: await signIn(user) });
  equal(reply.status, 403);
  equal(reply.body.code, "NOT_A_MEMBER");
  match(reply.body.error, /belongs to no tenant/);
});

Deno.test("users: bad tokens are refused with 401 and a description a person can act on", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const good = claimsFor(user);
  const now = Math.floor(Date.now() / 1000);
  const valid = await mint(good);
  const [head, body] = valid.split(".");
  const header = (alg: string) =>
    btoa(JSON.stringify({ alg, typ: "JWT" })).replace(/=+$/, "").replaceAll("+", "-")
      .replaceAll("/", "_");
  const cases: Array<[string, string, RegExp]> = [
    [
      "wrong issuer",
      await mint({ ...good, iss: "https://other.supabase.co/auth/v1" }),
      /issued by another server/,
    ],
    ["wrong audience", await mint({ ...good, aud: "some-api" }), /another audience/],
    ["expired", await mint({ ...good, iat: now - 7200, exp: now - 3600 }), /expired/],
    [
      "bad signature",
      `${head}.${body}.${valid.split(".")[2].split("").reverse().join("")}`,
      /signature|malformed/,
    ],
    [
      "tampered claims",
      `${head}.${btoa(JSON.stringify({ ...good, sub: crypto.randomUUID() })).replace(/=+$/, "")}.${
        valid.split(".")[2]
      }`,
      /signature|malformed/,
    ],
    ["alg none", `${header("none")}.${body}.`, /algorithm|malformed/],
    ["HS256 (legacy)", await mintHs256(good), /HS256/],
    ["another project's key", await mint(good, otherProjectKey), /does not publish|signature/],
    ["anon role", await mint({ ...good, role: "anon" }), /signed-in users/],
  ];
  for (const [what, token, message] of cases) {
    const reply = await post(fn, listTools(), { key: token });
    equal(reply.status, 401, `${what}: ${reply.text}`);
    equal(reply.body.code, "INVALID_TOKEN", what);
    match(reply.body.error, message, what);
    const challenge = reply.headers.get("www-authenticate") ?? "";
    match(challenge, /^Bearer /, what);
    match(challenge, /error="invalid_token"/, what);
    match(challenge, /error_description="[^"]+"/, what);
    ok(!reply.text.includes("at "), `${what}: no stack trace`);
  }
  equal((await post(fn, listTools(), { key: valid })).status, 200, "the good token passes");
});

Deno.test("users: HS256 tokens pass only where the legacy secret is configured", async () => {
  const t = await tenantWithKey(["echo"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const token = await mintHs256(claimsFor(user));
  equal((await post(app(), listTools(), { key: token })).status, 401);
  const legacy = app({ legacySecret: stack.info.jwtSecret });
  equal((await post(legacy, listTools(), { key: token })).status, 200);
});

Deno.test("users: without SUPABASE_JWKS the keys are fetched once and unknown key ids refetch at a bounded rate", async () => {
  let fetches = 0;
  const counting: typeof fetch = (input, init) => {
    fetches++;
    return fetch(input, init);
  };
  const fn = app({ jwks: undefined, jwksRefreshMs: 60_000 }, { fetchJwks: counting });
  const t = await tenantWithKey(["echo"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  for (let i = 0; i < 5; i++) {
    // Distinct tokens, so each one is verified (no verified-token cache hit).
    const token = await mint(claimsFor(user));
    equal((await post(fn, listTools(), { key: token })).status, 200);
  }
  equal(fetches, 1, "one fetch for the first token, none per request");
  for (let i = 0; i < 5; i++) {
    const foreign = await mint(claimsFor(user), otherProjectKey);
    equal((await post(fn, listTools(), { key: foreign })).status, 401);
  }
  ok(fetches <= 2, `unknown key ids refetch at most once per cooldown (fetched ${fetches} times)`);
});

Deno.test("users: the deployment that accepts keys only says so", async () => {
  const fn = inProcessApp();
  const t = await tenantWithKey(["echo"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const reply = await post(fn, listTools(), { key: await signIn(user) });
  equal(reply.status, 401);
  match(reply.body.error, /API keys \(mcpk_…\) only/);
});

Deno.test("signup: default tools a personal tenant can't have are refused when saved", async () => {
  let message = "";
  try {
    await stack.psql(`update public.signup_settings set default_tools = '{echo,ecko}'`);
  } catch (err) {
    message = (err as Error).message;
  }
  match(
    message,
    /Signup settings: the personal tenant's enabled_tools names an unknown tool: ecko/,
  );
});

Deno.test("signup: creates a personal tenant with the default tools, only when switched on", async () => {
  await stack.psql(`update public.signup_settings set creates_tenant = false`);
  const before = await createUser("nobody");
  equal(
    (await stack.psql(
      `select count(*) from public.tenant_members where user_id = ${lit(before.id)}`,
    ))
      .trim(),
    "0",
  );
  await stack.psql(
    `update public.signup_settings set creates_tenant = true, default_tools = '{tenant_info,echo}'`,
  );
  try {
    const user = await createUser("Ada.Lovelace");
    const row = await stack.psql(
      `select t.slug || '|' || m.role || '|' || array_to_string(t.enabled_tools, ',')
      from public.tenant_members m join public.tenants t on t.id = m.tenant_id
      where m.user_id = ${lit(user.id)}`,
    );
    const [slug, role, tools] = row.trim().split("|");
    match(slug, /^ada-lovelace-/);
    equal(role, "owner");
    deepStrictEqual(tools.split(",").sort(), ["echo", "tenant_info"]);
    // Signed in, the new user reaches the new tenant at once.
    const fn = app();
    const info = await post(fn, callTool("tenant_info"), { key: await signIn(user) });
    equal(info.body.result.structuredContent.tenant.slug, slug);
  } finally {
    await stack.psql(`update public.signup_settings set creates_tenant = false`);
  }
});

Deno.test("oauth: 401s link the protected-resource metadata only when OAuth is on", async () => {
  const off = app();
  const plain = await post(off, listTools());
  equal(plain.status, 401);
  const offHeader = plain.headers.get("www-authenticate")!;
  ok(!offHeader.includes("resource_metadata"), offHeader);
  match(offHeader, /does not offer OAuth sign-in/);

  const publicUrl = "https://ref.supabase.co/functions/v1/mcp-tools-server";
  const on = app({ oauth: true, publicUrl });
  const challenge = (await post(on, listTools())).headers.get("www-authenticate")!;
  match(
    challenge,
    new RegExp(`resource_metadata="${publicUrl}/.well-known/oauth-protected-resource"`),
  );
  const tenantChallenge = (await post({ ...on, url: TENANT_URL(on, "acme") }, listTools()))
    .headers.get("www-authenticate")!;
  match(tenantChallenge, /oauth-protected-resource\/t\/acme\/mcp"/);

  const base = on.url.replace(/\/mcp$/, "");
  const metadata = await (await on.fetch(`${base}/.well-known/oauth-protected-resource`)).json();
  deepStrictEqual(metadata, {
    resource: `${publicUrl}/mcp`,
    authorization_servers: [stack.info.authIssuer],
    bearer_methods_supported: ["header"],
    resource_name: "mcp-tools-server",
  });
  const perTenant =
    await (await on.fetch(`${base}/.well-known/oauth-protected-resource/t/acme/mcp`))
      .json();
  equal(perTenant.resource, `${publicUrl}/t/acme/mcp`);
  equal((await off.fetch(`${base}/.well-known/oauth-protected-resource`)).status, 404);
});
