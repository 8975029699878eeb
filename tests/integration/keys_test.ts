/**
 * Key lifecycle: the key format and its checksum, rotation with an overlap, revocation, and
 * last_used_at kept current without a write per request.
 */
import { equal, match, notEqual, ok } from "node:assert/strict";
import {
  checksumMatches,
  parseApiKey,
  sha256Hex,
} from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { inProcessApp, lit, tenantWithKey } from "../support/fixtures.ts";
import { listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

const TTL = 10_000;

const app = () => inProcessApp({ config: { tenantCacheTtlMs: TTL, negativeCacheTtlMs: 1_000 } });

const code = async (reply: Promise<{ status: number; text: string }>) => {
  const r = await reply;
  return r.status === 200 ? "OK" : JSON.parse(r.text).code;
};

const sql = async (query: string) => (await stack.psql(query)).trim();

Deno.test("keys: mcpk_<key id>_<secret><checksum>, the id public, the checksum sound", async () => {
  const t = await tenantWithKey(["echo"]);
  match(t.key, /^mcpk_[0-9a-f]{12}_[0-9a-f]{64}[0-9a-f]{6}$/);
  const parsed = parseApiKey(t.key)!;
  equal(await checksumMatches(t.key), true);
  const row = await sql(`select key_id || '|' || display_prefix || '|' || key_hash
    from public.api_keys where tenant_id = '${t.id}'`);
  equal(row, `${parsed.keyId}|mcpk_${parsed.keyId}|${await sha256Hex(t.key)}`);
});

Deno.test("keys: a damaged key is refused without asking the database", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  // Same shape, one character of the secret changed: the checksum no longer matches.
  const flipped = t.key[30] === "0" ? "1" : "0";
  const damaged = t.key.slice(0, 30) + flipped + t.key.slice(31);
  const reply = await post(fn, listTools(), { key: damaged });
  equal(reply.status, 401);
  equal(reply.body.code, "INVALID_API_KEY");
  match(reply.body.error, /checksum/);
  equal(fn.metrics.storeLookups, 0, "no database lookup for a damaged key");
  equal(fn.metrics.keysRefusedUnchecked, 1);

  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  equal(fn.metrics.storeLookups, 1);
});

Deno.test("keys: a row whose key id disagrees with the key is not that key's", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  await stack.psql(
    `update public.api_keys set key_id = '000000000000', display_prefix = 'mcpk_000000000000'
    where tenant_id = '${t.id}'`,
  );
  equal(await code(post(fn, listTools(), { key: t.key })), "INVALID_API_KEY");
});

Deno.test("keys: rotation keeps the old key working until its chosen end", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  const oldId = parseApiKey(t.key)!.keyId;
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");

  const rotated = JSON.parse(
    await sql(
      `select public.rotate_api_key(${lit(oldId)}, now() + interval '30 seconds')`,
    ),
  );
  const fresh: string = rotated.key;
  notEqual(fresh, t.key);
  equal(rotated.replaces, oldId);
  equal(rotated.old_key.key_id, oldId);
  equal(rotated.tenant, t.slug);
  ok(Date.parse(rotated.old_key.expires_at) > Date.now(), "the old key ends in the future");

  // Both work during the overlap, in the same isolate.
  fn.clock.advance(TTL);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  equal(await code(post(fn, listTools(), { key: fresh })), "OK");

  // After the old key's end only the new one works, without waiting for the cache.
  fn.clock.advance(25_000);
  equal(await code(post(fn, listTools(), { key: t.key })), "KEY_EXPIRED");
  equal(await code(post(fn, listTools(), { key: fresh })), "OK");

  const keys = JSON.parse(await sql(`select public.list_api_keys(${lit(t.slug)})`));
  equal(keys.length, 2);
  equal(keys[1].replaces, oldId, "the new key records which key it replaced");

  const again = await stack.psql(`select public.rotate_api_key(${lit(oldId)})`).then(
    () => "accepted",
    (err: Error) => err.message,
  );
  equal(again, "accepted", "a key still inside its overlap may be rotated again");
});

Deno.test("keys: revoked or expired keys can't be rotated; unknown ids are named", async () => {
  const t = await tenantWithKey(["echo"]);
  const id = parseApiKey(t.key)!.keyId;
  const revoked = JSON.parse(await sql(`select public.revoke_api_key(${lit(id)})`));
  equal(revoked.state, "revoked");
  const attempt = (query: string) =>
    stack.psql(query).then(() => "accepted", (e: Error) => e.message);
  match(await attempt(`select public.rotate_api_key(${lit(id)})`), /is revoked; issue a new key/);
  match(
    await attempt(`select public.revoke_api_key('abcdefabcdef')`),
    /No API key with id "abcdefabcdef"/,
  );
  match(
    await attempt(`select public.issue_api_key(${lit(t.slug)}, 'x', now() - interval '1 day')`),
    /is in the past/,
  );
});

Deno.test("keys: last_used_at is kept current by lookups, not by every request", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  const lastUsed = () =>
    sql(`select coalesce(last_used_at::text, 'never')
    from public.api_keys where tenant_id = '${t.id}'`);
  equal(await lastUsed(), "never");

  for (let i = 0; i < 20; i++) equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  equal(fn.metrics.storeLookups, 1, "twenty requests, one lookup");
  const first = await lastUsed();
  notEqual(first, "never");

  // The next lookup within a minute writes nothing.
  fn.clock.advance(TTL);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  equal(fn.metrics.storeLookups, 2);
  equal(await lastUsed(), first);

  // Older than a minute: the next lookup moves it.
  await stack.psql(`update public.api_keys set last_used_at = now() - interval '2 minutes'
    where tenant_id = '${t.id}'`);
  fn.clock.advance(TTL);
  equal(await code(post(fn, listTools(), { key: t.key })), "OK");
  const moved = await sql(`select last_used_at > now() - interval '10 seconds'
    from public.api_keys where tenant_id = '${t.id}'`);
  equal(moved, "t");
});

Deno.test("keys: refused keys do not count as used", async () => {
  const fn = app();
  const t = await tenantWithKey(["echo"]);
  await stack.psql(`update public.api_keys set revoked_at = now() - interval '1 minute'
    where tenant_id = '${t.id}'`);
  equal(await code(post(fn, listTools(), { key: t.key })), "KEY_REVOKED");
  equal(
    await sql(`select last_used_at is null from public.api_keys where tenant_id = '${t.id}'`),
    "t",
  );
});
