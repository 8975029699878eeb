/** The database side: keys stored hashed, nothing reachable by browser roles through PostgREST. */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { sha256Hex } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { tenantWithKey } from "../support/fixtures.ts";
import { rest, stack } from "../support/stack.ts";

Deno.test("only a SHA-256 of each key and a short display prefix are stored", async () => {
  const t = await tenantWithKey(["echo"]);
  const row = await stack.psql(
    `select key_hash || '|' || display_prefix from public.api_keys where tenant_id = '${t.id}'`,
  );
  const [hash, prefix] = row.trim().split("|");
  const expected = await sha256Hex(t.key);
  equal(hash, expected);
  equal(prefix, t.key.slice(0, 17));
  match(t.key, /^mcpk_[0-9a-f]{12}_[0-9a-f]{70}$/);
  const leaks = await stack.psql(`select count(*) from public.api_keys k
    where to_jsonb(k)::text like '%${t.key.slice(18, 82)}%'`);
  equal(leaks.trim(), "0", "the secret part of the key is nowhere in the row");
});

for (const role of ["anon", "authenticated"] as const) {
  const key = () => role === "anon" ? stack.info.anonKey : stack.info.authenticatedKey;

  Deno.test(`${role}: cannot read or change any table through PostgREST`, async () => {
    const t = await tenantWithKey(["echo"]);
    const rows: Record<string, unknown> = {
      tenants: { slug: "evil", name: "evil" },
      api_keys: { tenant_id: t.id, key_hash: "0".repeat(64), display_prefix: "mcpk_evil" },
      tool_catalog: { name: "evil", family: "builtin", description: "evil" },
    };
    const tables = (await stack.psql(`select string_agg(relname, ' ' order by relname)
      from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`)).trim()
      .split(" ");
    for (const table of tables) {
      const read = await rest(`${table}?select=*`, key());
      ok(read.status === 401 || read.status === 403, `${table} read: ${read.status}`);
      await read.body?.cancel();
      const write = await rest(table, key(), {
        method: "POST",
        body: JSON.stringify(rows[table] ?? {}),
      });
      ok(write.status === 401 || write.status === 403, `${table} write: ${write.status}`);
      await write.body?.cancel();
    }
  });

  Deno.test(`${role}: cannot call the key lookup or any admin function`, async () => {
    const t = await tenantWithKey(["echo"]);
    const calls: [string, Record<string, unknown>][] = [
      ["resolve_api_key", { p_key_hash: "0".repeat(64) }],
      ["issue_api_key", { p_tenant_slug: t.slug }],
      ["create_tenant", { p_slug: "evil-corp", p_name: "Evil" }],
      ["list_tenants", {}],
      ["list_api_keys", {}],
      ["set_enabled_tools", { p_slug: t.slug, p_tools: [] }],
      ["set_tenant_status", { p_slug: t.slug, p_status: "disabled" }],
      ["revoke_api_key", { p_key_id: t.key.slice(5, 17) }],
      ["resolve_member", { p_user_id: crypto.randomUUID() }],
      ["add_member", { p_tenant_slug: t.slug, p_user: "someone@example.com" }],
      ["list_members", {}],
      ["set_key_tools", { p_key_id: t.key.slice(5, 17), p_tools: [] }],
      ["custom_access_token_hook", { event: { user_id: crypto.randomUUID(), claims: {} } }],
    ];
    for (const [fn, args] of calls) {
      const res = await rest(`rpc/${fn}`, key(), { method: "POST", body: JSON.stringify(args) });
      ok([401, 403, 404].includes(res.status), `${fn}: ${res.status}`);
      await res.body?.cancel();
    }
    equal(
      (await stack.psql(`select status || ' ' || cardinality(enabled_tools) from public.tenants
        where id = '${t.id}'`)).trim(),
      "active 1",
      "nothing changed",
    );
  });
}

Deno.test("service_role resolves a key with one RPC, and RLS is on everywhere", async () => {
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const hash = (await stack.psql(
    `select key_hash from public.api_keys where tenant_id = '${t.id}'`,
  )).trim();
  const res = await rest("rpc/resolve_api_key", stack.info.serviceRoleKey, {
    method: "POST",
    body: JSON.stringify({ p_key_hash: hash }),
  });
  equal(res.status, 200);
  const body = await res.json();
  equal(body.tenant.slug, t.slug);
  deepStrictEqual(body.tenant.enabled_tools, ["echo", "tenant_info"]);
  equal("key_hash" in body, false, "the hash itself is not returned");

  const rls = await stack.psql(
    `select string_agg(relname || ':' || relrowsecurity, ',' order by relname)
    from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`,
  );
  for (const entry of rls.trim().split(",")) match(entry, /:(t|true)$/, `RLS off on ${entry}`);
});

Deno.test("the database refuses malformed tenant rows with a named constraint", async () => {
  const attempt = (sql: string) =>
    stack.psql(sql).then(() => "accepted", (err: Error) => err.message);
  match(
    await attempt(`insert into public.tenants (slug, name) values ('Bad Slug!', 'x')`),
    /tenants_slug_format/,
  );
  match(
    await attempt(
      `insert into public.tenants (slug, name, status) values ('ok-slug-x', 'x', 'paused')`,
    ),
    /invalid input value for enum tenant_status/,
  );
  match(
    await attempt(
      `insert into public.tenants (slug, name, config) values ('ok-slug-y', 'x', '[]')`,
    ),
    /tenants_config_is_object/,
  );
});

Deno.test("every table and column has a comment for the dashboard", async () => {
  const missing = await stack.psql(`select string_agg(c.relname || '.' || a.attname, ', ')
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind = 'r'
      and a.attnum > 0 and not a.attisdropped
      and col_description(c.oid, a.attnum) is null`);
  equal(missing.trim(), "", `columns without a comment: ${missing}`);
  const tables = await stack.psql(`select string_agg(relname, ', ') from pg_class
    where relnamespace in ('public'::regnamespace, 'private'::regnamespace) and relkind = 'r'
      and obj_description(oid, 'pg_class') is null`);
  equal(tables.trim(), "", `tables without a comment: ${tables}`);
});

Deno.test("no table, view, sequence or function in public is open to anon or authenticated", async () => {
  const open = await stack.psql(`
    select string_agg(format('%s %s', r.rolname, c.relname), ', ')
    from pg_class c cross join (values ('anon'), ('authenticated')) r(rolname)
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'm', 'S', 'p')
      and (has_table_privilege(r.rolname, c.oid, 'select, insert, update, delete')
           or (c.relkind = 'S' and has_sequence_privilege(r.rolname, c.oid, 'usage')))`);
  equal(open.trim(), "", `open to API roles: ${open}`);
  const callable = await stack.psql(`
    select string_agg(format('%s %s', r.rolname, p.oid::regprocedure), ', ')
    from pg_proc p cross join (values ('anon'), ('authenticated')) r(rolname)
    where p.pronamespace = 'public'::regnamespace
      and has_function_privilege(r.rolname, p.oid, 'execute')`);
  equal(callable.trim(), "", `functions callable by API roles: ${callable}`);
  const unrestricted = await stack.psql(`select string_agg(relname, ', ') from pg_class
    where relnamespace = 'public'::regnamespace and relkind = 'r' and not relrowsecurity`);
  equal(unrestricted.trim(), "", `tables without RLS: ${unrestricted}`);
});

/** The RPC surface: what the function, `deno task admin` and the secrets admin call. */
const PUBLIC_RPCS = [
  "add_member",
  "attach_remote_server",
  "create_tenant",
  "crm_add_note",
  "crm_create",
  "crm_get",
  "crm_search",
  "crm_set_archived",
  "crm_update",
  "custom_access_token_hook",
  "delete_tenant_secret",
  "detach_remote_server",
  "disable_tools",
  "enable_tools",
  "get_tenant",
  "import_http_tools",
  "issue_api_key",
  "lease_usage",
  "list_api_keys",
  "list_members",
  "list_remote_servers",
  "list_tenants",
  "list_tools",
  "prune_usage",
  "record_usage",
  "remove_member",
  "resolve_api_key",
  "resolve_member",
  "resolve_remote_servers",
  "resolve_tenant_secrets",
  "revoke_api_key",
  "rotate_api_key",
  "set_enabled_tools",
  "set_key_tools",
  "set_member_limits",
  "set_tenant_config",
  "set_tenant_secret",
  "set_tenant_status",
  "usage_report",
];
/**
 * The only functions that may run with their owner's rights: they touch secret values, read
 * auth.users (only Supabase Auth's roles may), or run inside a signup as Supabase Auth's role.
 */
const DEFINERS = [
  "private.create_personal_tenant()",
  "private.member_view(tenant_members)",
  "private.tenant_secrets_drop_vault_secret()",
  "private.user_by_ref(text)",
  "private.user_email(text)",
  "public.delete_tenant_secret(text,text)",
  "public.resolve_tenant_secrets(uuid,text[],text)",
  "public.set_tenant_secret(text,text,text,text)",
];

Deno.test("public holds exactly the intended RPCs, each callable by service_role", async () => {
  const rows = JSON.parse(
    await stack.psql(`select jsonb_agg(jsonb_build_object(
        'name', p.proname,
        'service_role', has_function_privilege('service_role', p.oid, 'execute'))
      order by p.proname)
      from pg_proc p where p.pronamespace = 'public'::regnamespace`),
  ) as { name: string; service_role: boolean }[];
  deepStrictEqual(rows.map((r) => r.name), PUBLIC_RPCS);
  deepStrictEqual(rows.filter((r) => !r.service_role).map((r) => r.name), []);
});

Deno.test("service_role reaches no helper through PostgREST: every private function is a 404", async () => {
  const helpers = (await stack.psql(`select string_agg(distinct proname, ' ')
    from pg_proc where pronamespace = 'private'::regnamespace`)).trim().split(" ");
  ok(helpers.length >= 10, `helpers found: ${helpers}`);
  for (const helper of [...helpers, "touch_updated_at", "json_schema_problems"]) {
    const res = await rest(`rpc/${helper}`, stack.info.serviceRoleKey, {
      method: "POST",
      body: "{}",
    });
    equal(res.status, 404, `rpc/${helper}: ${res.status}`);
    await res.body?.cancel();
  }
});

Deno.test("only the functions touching secrets or auth.users are security definer", async () => {
  const definers = await stack.psql(
    `select string_agg(format('%s.%s(%s)', p.pronamespace::regnamespace,
      p.proname, replace(oidvectortypes(p.proargtypes), ', ', ',')), ' ' order by 1)
    from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prosecdef`,
  );
  deepStrictEqual(definers.trim().split(" ").sort(), DEFINERS);
});

Deno.test("private: no API role may use the schema's tables; only service_role its schema", async () => {
  const open = await stack.psql(`
    select string_agg(format('%s %s', r.rolname, c.relname), ', ')
    from pg_class c cross join (values ('anon'), ('authenticated'), ('service_role')) r(rolname)
    where c.relnamespace = 'private'::regnamespace and c.relkind in ('r', 'v', 'm', 'S', 'p')
      and (has_table_privilege(r.rolname, c.oid, 'select, insert, update, delete')
           or (c.relkind = 'S' and has_sequence_privilege(r.rolname, c.oid, 'usage')))`);
  equal(open.trim(), "", `private tables open to API roles: ${open}`);
  const usage = await stack.psql(`select string_agg(r, ',' order by r)
    from unnest(array['anon', 'authenticated', 'service_role']) r
    where has_schema_privilege(r, 'private', 'usage')`);
  equal(usage.trim(), "service_role");
  const callable = await stack.psql(`
    select string_agg(format('%s %s', r.rolname, p.oid::regprocedure), ', ')
    from pg_proc p cross join (values ('anon'), ('authenticated')) r(rolname)
    where p.pronamespace = 'private'::regnamespace
      and has_function_privilege(r.rolname, p.oid, 'execute')`);
  equal(callable.trim(), "", `private functions callable by anon/authenticated: ${callable}`);
  const rls = await stack.psql(`select string_agg(relname, ', ') from pg_class
    where relnamespace = 'private'::regnamespace and relkind = 'r' and not relrowsecurity`);
  equal(rls.trim(), "", `private tables without RLS: ${rls}`);
});

Deno.test("supabase_auth_admin: runs the hook and signups, reads memberships, changes nothing else", async () => {
  const t = await tenantWithKey(["echo"]);
  const user = crypto.randomUUID();
  await stack.psql(`set role supabase_auth_admin;
    insert into auth.users (id, aud, role, email, created_at, updated_at)
    values ('${user}', 'authenticated', 'authenticated', '${user}@example.com', now(), now())`);
  await stack.psql(`select public.add_member('${t.slug}', '${user}', 'admin')`);
  const claims = JSON.parse(
    await stack.psql(`set role supabase_auth_admin;
      select public.custom_access_token_hook(jsonb_build_object('user_id', '${user}',
        'claims', jsonb_build_object('sub', '${user}', 'role', 'authenticated'))) -> 'claims'`),
  );
  equal(claims.tenant_id, t.id);
  equal(claims.tenant_role, "admin");
  equal(claims.sub, user, "other claims pass through");
  for (
    const statement of [
      `update public.tenants set status = 'disabled' where id = '${t.id}'`,
      `delete from public.tenant_members where user_id = '${user}'`,
      `select count(*) from public.api_keys`,
      `select public.add_member('${t.slug}', '${user}', 'owner')`,
    ]
  ) {
    let refused = false;
    try {
      await stack.psql(`set role supabase_auth_admin; ${statement}`);
    } catch {
      refused = true;
    }
    ok(refused, `supabase_auth_admin may not: ${statement}`);
  }
  equal(
    (await stack.psql(`select role from public.tenant_members where user_id = '${user}'`)).trim(),
    "admin",
  );
});
