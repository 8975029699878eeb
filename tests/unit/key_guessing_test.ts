/**
 * Key guessing is throttled per client address and per key id (429 + Retry-After, no lookup),
 * while a known key keeps being served from the cache, whatever its neighbours send.
 */
import { equal, match, ok } from "node:assert/strict";
import { withChecksum } from "../../supabase/functions/mcp-tools-server/auth/api_key.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import { callTool, post } from "../support/mcp_client.ts";

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
/** A well-formed key with a valid checksum that no tenant has. */
const randomKey = (keyId = hex(6)) => withChecksum(`mcpk_${keyId}_${hex(32)}`);
const from = (address: string) => ({ "x-forwarded-for": `${address}, 10.0.0.1` });

Deno.test("key guessing: an address that sends too many unknown keys gets 429 with Retry-After, no lookup", async () => {
  const tenants = new MemoryTenants();
  const good = await tenants.add(["echo"]);
  const app = unitApp(tenants, {
    config: { keyFailuresPerAddress: 5, keyFailuresPerKeyId: 100, keyFailureWindowMs: 60_000 },
  });
  equal((await post(app, callTool("echo", { text: "hi" }), { key: good.key })).status, 200);
  const lookupsBefore = tenants.lookups;
  for (let i = 0; i < 5; i++) {
    const reply = await post(app, callTool("echo", { text: "x" }), {
      key: await randomKey(),
      headers: from("203.0.113.7"),
    });
    equal(reply.status, 401);
  }
  equal(tenants.lookups - lookupsBefore, 5);
  for (let i = 0; i < 50; i++) {
    const reply = await post(app, callTool("echo", { text: "x" }), {
      key: await randomKey(),
      headers: from("203.0.113.7"),
    });
    equal(reply.status, 429);
    equal(reply.body.code, "TOO_MANY_FAILED_KEYS");
    equal(reply.headers.get("retry-after"), "60");
  }
  equal(tenants.lookups - lookupsBefore, 5, "throttled guesses cost no lookup");
  equal(app.metrics.keyGuessesThrottled, 50);
  // A known key is served from the cache, from the same address too.
  const served = await post(app, callTool("echo", { text: "still here" }), {
    key: good.key,
    headers: from("203.0.113.7"),
  });
  equal(served.body.result.content[0].text, "still here");
  // Another address is unaffected; after the window the address may try again.
  equal(
    (await post(app, callTool("echo"), { key: await randomKey(), headers: from("198.51.100.1") }))
      .status,
    401,
  );
  app.clock.advance(60_000);
  equal(
    (await post(app, callTool("echo"), { key: await randomKey(), headers: from("203.0.113.7") }))
      .status,
    401,
  );
});

Deno.test("key guessing: tries at one key id are throttled whatever the address", async () => {
  const tenants = new MemoryTenants();
  const app = unitApp(tenants, {
    config: { keyFailuresPerAddress: 1000, keyFailuresPerKeyId: 3, keyFailureWindowMs: 30_000 },
  });
  const keyId = hex(6);
  for (let i = 0; i < 3; i++) {
    const reply = await post(app, callTool("echo"), {
      key: await randomKey(keyId),
      headers: from(`192.0.2.${i}`),
    });
    equal(reply.status, 401);
  }
  const refused = await post(app, callTool("echo"), {
    key: await randomKey(keyId),
    headers: from("192.0.2.99"),
  });
  equal(refused.status, 429);
  match(refused.body.error, new RegExp(`mcpk_${keyId}`));
  equal(refused.headers.get("retry-after"), "30");
});

Deno.test("key guessing: a flood of unknown keys never evicts a known key (separate bounded cache)", async () => {
  const tenants = new MemoryTenants();
  const good = await tenants.add(["echo"]);
  const app = unitApp(tenants, {
    config: {
      tenantCacheMax: 10,
      negativeCacheMax: 50,
      keyFailuresPerAddress: 0,
      keyFailuresPerKeyId: 0,
    },
  });
  await post(app, callTool("echo", { text: "a" }), { key: good.key });
  const lookups = tenants.lookups;
  for (let i = 0; i < 300; i++) {
    await post(app, callTool("echo"), {
      key: await randomKey(),
      headers: from(`10.1.${i >> 8}.${i & 255}`),
    });
  }
  equal(tenants.lookups - lookups, 300);
  await post(app, callTool("echo", { text: "b" }), { key: good.key });
  equal(tenants.lookups - lookups, 300, "the known key was still cached");
  ok(app.metrics.keyCacheHits >= 1);
});
