/** The database side: keys stored hashed, nothing reachable by browser roles through PostgREST. */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { sha256Hex } from "../supabase/functions/mcp-tools-server/api_key.ts";
import { tenantWithKey } from "./support/fixtures.ts";
import { stack } from "./support/stack.ts";

const rest = (path: string, key: string, init: RequestInit = {}) =>
  fetch(`${stack.info.supabaseUrl}/rest/v1/${path}`, {
    ...init,
    headers: {
      apikey: key,
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });

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

  Deno.test(`${role}: cannot read or change tenants and keys through PostgREST`, async () => {
    const t = await tenantWithKey(["echo"]);
    const rows: Record<string, unknown> = {
      tenants: { slug: "evil", name: "evil" },
      api_keys: { tenant_id: t.id, key_hash: "0".repeat(64), display_prefix: "mcpk_evil" },
    };
    for (const table of ["tenants", "api_keys"]) {
      const read = await rest(`${table}?select=*`, key());
      ok(read.status === 401 || read.status === 403, `${table} read: ${read.status}`);
      await read.body?.cancel();
      const write = await rest(table, key(), {
        method: "POST",
        body: JSON.stringify(rows[table]),
      });
      ok(write.status === 401 || write.status === 403, `${table} write: ${write.status}`);
      await write.body?.cancel();
    }
  });

  Deno.test(`${role}: cannot call the key lookup or issue keys`, async () => {
    const t = await tenantWithKey(["echo"]);
    const lookup = await rest("rpc/resolve_api_key", key(), {
      method: "POST",
      body: JSON.stringify({ p_key_hash: "0".repeat(64) }),
    });
    ok([401, 403, 404].includes(lookup.status), `resolve_api_key: ${lookup.status}`);
    await lookup.body?.cancel();
    const issue = await rest("rpc/issue_api_key", key(), {
      method: "POST",
      body: JSON.stringify({ p_tenant_slug: t.slug }),
    });
    ok([401, 403, 404].includes(issue.status), `issue_api_key: ${issue.status}`);
    await issue.body?.cancel();
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

Deno.test("every admin-facing column has a comment for the dashboard", async () => {
  const missing = await stack.psql(`select string_agg(c.relname || '.' || a.attname, ', ')
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.oid in ('public.tenants'::regclass, 'public.api_keys'::regclass)
      and a.attnum > 0 and not a.attisdropped
      and col_description(c.oid, a.attnum) is null`);
  equal(missing.trim(), "", `columns without a comment: ${missing}`);
});
