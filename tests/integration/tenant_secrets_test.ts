/**
 * Tenants' upstream credentials on both stores: Supabase Vault (its interface and grants, from
 * scripts/sql/supabase_vault.sql, loaded for these tests and dropped after them) and pgcrypto
 * under TENANT_SECRETS_KEY (plain PostgreSQL). On each: set, rotate, read by a function process
 * calling the tenant's API, delete; anon and authenticated reach none of it.
 */
import { equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { runPsql } from "../../scripts/lib/psql.ts";
import { startFakeApi } from "../support/fake_api.ts";
import { lit } from "../support/fixtures.ts";
import { addHttpTool, httpTenant } from "../support/http_fixtures.ts";
import { callTool, post } from "../support/mcp_client.ts";
import { rest, stack } from "../support/stack.ts";

const VAULT_SQL = join(stack.info.root, "scripts", "sql", "supabase_vault.sql");

const tool = await addHttpTool({
  method: "GET",
  path: "/whoami/{arg}",
  input_schema: { type: "object", properties: { arg: { type: "string" } }, required: ["arg"] },
});

const vaultAvailable = async () =>
  (await stack.psql("select private.vault_available()")).trim() === "t";

async function loadVault() {
  await runPsql(stack.info.dbUrl, { args: ["-1", "-f", VAULT_SQL] });
}

async function dropVault() {
  // Rows pointing into Vault go first (their trigger deletes the Vault secret too).
  await stack.psql(
    `delete from private.tenant_secrets where vault_secret_id is not null;
     drop schema if exists vault cascade;`,
  );
}

const setSecret = (slug: string, value: string, key: string | null) =>
  stack.psql(
    `select public.set_tenant_secret(${lit(slug)}, 'api_token', ${lit(value)}, ${
      key === null ? "null" : lit(key)
    })`,
  );

const asRole = (role: string, sql: string) =>
  stack.psql(`begin; set local role ${role}; ${sql}; rollback;`);

/** What the tenant's API saw as credential when the function called it just now. */
async function credentialSeen(url: string, key: string, api: ReturnType<typeof startFakeApi>) {
  const got = await post(url, callTool(tool, { arg: "x" }), { key });
  const result = got.body.result;
  if (result?.isError) return { error: JSON.stringify(result.content) };
  return { credential: api.seen.at(-1)?.headers.authorization };
}

async function secretFlow(store: "vault" | "pgcrypto") {
  const api = startFakeApi(store);
  // A function process of its own (on the stack's Deno), reaching the fake API, no secret cache.
  const fn = await stack.startFunction({
    UPSTREAM_ALLOW_HOSTS: api.hostPort,
    TENANT_SECRETS_TTL_MS: "0",
  });
  try {
    const url = `${fn.url}/mcp-tools-server/mcp`;
    const tenant = await httpTenant([tool], {
      http: { base_url: api.url, auth: { type: "bearer", secret: "api_token" } },
    });
    // With Vault no key is needed; without it the deployment's TENANT_SECRETS_KEY is.
    const key = store === "vault" ? null : stack.info.tenantSecretsKey;
    const first = `sk_${store}_1_${crypto.randomUUID()}`;
    const second = `sk_${store}_2_${crypto.randomUUID()}`;

    await setSecret(tenant.slug, first, key);
    const row = (await stack.psql(
      `select coalesce(vault_secret_id::text, '-') || ' ' || (ciphertext is not null)
       from private.tenant_secrets where tenant_id = ${lit(tenant.id)}`,
    )).trim();
    const [vaultId, encrypted] = row.split(" ");
    if (store === "vault") {
      equal(encrypted, "false", "with Vault no ciphertext is kept on the row");
      const stored = await stack.psql(
        `select secret from vault.secrets where id = ${lit(vaultId)}`,
      );
      ok(stored.trim() && !stored.includes(first), "Vault keeps the value encrypted");
    } else {
      equal(vaultId, "-");
      equal(encrypted, "true");
    }
    ok(!(await stack.psql("select * from private.tenant_secrets")).includes(first));
    equal((await credentialSeen(url, tenant.key, api)).credential, `Bearer ${first}`);

    // Rotating replaces the value in place (Vault: the same Vault secret, updated).
    await setSecret(tenant.slug, second, key);
    equal((await credentialSeen(url, tenant.key, api)).credential, `Bearer ${second}`);
    if (store === "vault") {
      const kept = await stack.psql(
        `select vault_secret_id from private.tenant_secrets where tenant_id = ${lit(tenant.id)}`,
      );
      equal(kept.trim(), vaultId);
      equal(
        (await stack.psql("select count(*) from vault.secrets where id = " + lit(vaultId))).trim(),
        "1",
      );
    }

    // Nobody but service_role reaches the values: not anon, not authenticated, neither through
    // the API nor in SQL.
    for (const apiKey of [stack.info.anonKey, stack.info.authenticatedKey]) {
      const res = await rest("rpc/resolve_tenant_secrets", apiKey, {
        method: "POST",
        body: JSON.stringify({ p_tenant_id: tenant.id, p_names: ["api_token"], p_key: key }),
      });
      const body = await res.text();
      ok(res.status >= 400 && !body.includes(second), `${res.status} ${body}`);
    }
    for (const role of ["anon", "authenticated"]) {
      await rejects(asRole(role, "select * from private.tenant_secrets"), /permission denied/);
      await rejects(
        asRole(role, `select public.resolve_tenant_secrets(${lit(tenant.id)}, array['api_token'])`),
        /permission denied/,
      );
      if (store === "vault") {
        await rejects(asRole(role, "select * from vault.decrypted_secrets"), /permission denied/);
        await rejects(asRole(role, "select vault.create_secret('x')"), /permission denied/);
      }
    }

    equal(
      (await stack.psql(`select public.delete_tenant_secret(${lit(tenant.slug)}, 'api_token')`))
        .trim(),
      "t",
    );
    if (store === "vault") {
      const left = await stack.psql(
        `select count(*) from vault.secrets where id = ${lit(vaultId)}`,
      );
      equal(left.trim(), "0", "deleting the tenant's secret deletes the Vault secret");
    }
    match((await credentialSeen(url, tenant.key, api)).error ?? "", /api_token/);
  } finally {
    await fn.stop();
    await api.close();
  }
}

Deno.test("tenant secrets without Vault: pgcrypto under TENANT_SECRETS_KEY", async () => {
  equal(await vaultAvailable(), false, "the default stack is plain PostgreSQL, without Vault");
  await secretFlow("pgcrypto");
});

Deno.test("tenant secrets in Supabase Vault: found by its real signature, used end to end", async () => {
  await loadVault();
  try {
    equal(await vaultAvailable(), true, "vault.create_secret(text, text, text, uuid) is found");
    // Supabase's grants: service_role manages Vault secrets itself, with the 4-argument calls.
    const id = await asRole(
      "service_role",
      `select vault.create_secret('v1', 'probe_${Date.now()}', 'probe', null)`,
    );
    ok(/^[0-9a-f-]{36}$/.test(id.trim().split("\n")[0]), id);
    await secretFlow("vault");
  } finally {
    await dropVault();
  }
  equal(await vaultAvailable(), false);
});
