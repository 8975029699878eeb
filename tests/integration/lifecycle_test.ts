/**
 * Admin changes reach requests once the key cache TTL has passed — not before (that is what the
 * cache is for) and not later. In-process with a hand-moved clock for exact bounds; through the
 * gateway with the test stack's real, short TTL for the whole path.
 */
import { equal } from "node:assert/strict";
import { inProcessApp, issueKey, tenantWithKey } from "../support/fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { functionTtlMs, stack } from "../support/stack.ts";

const TTL = 10_000;

function app() {
  return inProcessApp({ config: { tenantCacheTtlMs: TTL, negativeCacheTtlMs: 1_000 } });
}

const code = async (reply: Promise<{ status: number; text: string }>) => {
  const r = await reply;
  return r.status === 200 ? "OK" : JSON.parse(r.text).code;
};

Deno.test("disabling a tenant takes effect once the TTL has passed", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  await stack.psql(`update public.tenants set status = 'disabled' where id = '${t.id}'`);
  fn.clock.advance(TTL - 1);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK", "still cached");
  fn.clock.advance(1);
  equal(await code(post(fn, listTools(), { key: t.key })), "TENANT_DISABLED");
  await stack.psql(`update public.tenants set status = 'active' where id = '${t.id}'`);
  fn.clock.advance(TTL);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK", "re-enabling works the same way");
});

Deno.test("revoking a key takes effect once the TTL has passed", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  await stack.psql(`update public.api_keys set revoked_at = now() where tenant_id = '${t.id}'`);
  fn.clock.advance(TTL - 1);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  fn.clock.advance(1);
  equal(await code(post(fn, listTools(), { key: t.key })), "KEY_REVOKED");
});

Deno.test("a key stops at its expiry even while cached", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  const key = await issueKey(t.slug, { expiresAt: new Date(fn.clock.now() + 5_000) });
  equal(await code(post(fn, listTools(), { key })), "OK");
  fn.clock.advance(5_000);
  equal(await code(post(fn, listTools(), { key })), "KEY_EXPIRED");
});

Deno.test("a changed tool list is served once the TTL has passed", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  equal(toolNames(await post(fn, listTools(), { key: t.key })).join(), "echo");
  await stack.psql(`update public.tenants set enabled_tools = '{echo,tenant_info}'
    where id = '${t.id}'`);
  fn.clock.advance(TTL);
  equal(toolNames(await post(fn, listTools(), { key: t.key })).join(), "echo,tenant_info");
  equal(fn.metrics.serverBuilds, 2, "the new tool set got its own server");
});

Deno.test("a key issued after a failed attempt works once the negative TTL has passed", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  await stack.psql(`delete from public.api_keys where tenant_id = '${t.id}'`);
  equal(await code(post(fn, listTools(), { key: t.key })), "INVALID_API_KEY");
  await stack.psql(`insert into public.api_keys (tenant_id, key_id, key_hash, display_prefix)
    values ('${t.id}', substr('${t.key}', 6, 12),
            encode(sha256(convert_to('${t.key}', 'UTF8')), 'hex'), left('${t.key}', 17))`);
  equal(await code(post(fn, listTools(), { key: t.key })), "INVALID_API_KEY", "remembered briefly");
  fn.clock.advance(1_000);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
});

Deno.test("through the gateway: revocation and disabling land within the configured TTL", async () => {
  const url = stack.info.mcpUrl;
  const revoked = await tenantWithKey(["echo"]);
  const disabled = await tenantWithKey(["echo"]);
  for (const t of [revoked, disabled]) {
    equal(await code(post(url, callTool("echo", { text: "hi" }), { key: t.key })), "OK");
  }
  await stack.psql(`
    update public.api_keys set revoked_at = now() where tenant_id = '${revoked.id}';
    update public.tenants set status = 'disabled' where id = '${disabled.id}';`);
  await new Promise((resolve) => setTimeout(resolve, functionTtlMs() + 100));
  equal(await code(post(url, listTools(), { key: revoked.key })), "KEY_REVOKED");
  equal(await code(post(url, listTools(), { key: disabled.key })), "TENANT_DISABLED");
});
