import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { TtlCache } from "../../supabase/functions/mcp-tools-server/lib/ttl_cache.ts";
import { LruCache } from "../../supabase/functions/mcp-tools-server/lib/lru_cache.ts";
import { ManualClock } from "../support/clock.ts";

function keyCache(clock: ManualClock, maxEntries = 100) {
  return new TtlCache<string>({ ttlMs: 1000, negativeTtlMs: 100, maxEntries, clock });
}

Deno.test("key cache: reuses an answer until its TTL passes", async () => {
  const clock = new ManualClock(0);
  const cache = keyCache(clock);
  let loads = 0;
  const load = () => Promise.resolve(`v${++loads}`);
  equal(await cache.get("k", load), "v1");
  clock.advance(999);
  equal(await cache.get("k", load), "v1");
  clock.advance(1);
  equal(await cache.get("k", load), "v2");
});

Deno.test("key cache: unknown keys are remembered for the shorter negative TTL", async () => {
  const clock = new ManualClock(0);
  const cache = keyCache(clock);
  let loads = 0;
  const load = () => (loads++, Promise.resolve(null));
  equal(await cache.get("k", load), null);
  clock.advance(99);
  equal(await cache.get("k", load), null);
  equal(loads, 1);
  clock.advance(1);
  await cache.get("k", load);
  equal(loads, 2);
});

Deno.test("key cache: concurrent misses share one load", async () => {
  const cache = keyCache(new ManualClock(0));
  let loads = 0;
  const load = () => new Promise<string>((resolve) => setTimeout(() => resolve(`v${++loads}`), 5));
  const values = await Promise.all([1, 2, 3, 4].map(() => cache.get("k", load)));
  deepStrictEqual(values, ["v1", "v1", "v1", "v1"]);
  equal(loads, 1);
});

Deno.test("key cache: failures reach every waiter and are not cached", async () => {
  const cache = keyCache(new ManualClock(0));
  let calls = 0;
  const failing = () => (calls++, Promise.reject(new Error("down")));
  await Promise.all([
    rejects(cache.get("k", failing), /down/),
    rejects(cache.get("k", failing), /down/),
  ]);
  equal(calls, 1);
  equal(await cache.get("k", () => Promise.resolve("up")), "up");
});

Deno.test("key cache: holds at most maxEntries, dropping the least recently used", async () => {
  const cache = keyCache(new ManualClock(0), 3);
  for (const k of ["a", "b", "c"]) await cache.get(k, () => Promise.resolve(k));
  await cache.get("a", () => Promise.reject(new Error("a is cached"))); // a is now most recent
  await cache.get("d", () => Promise.resolve("d"));
  equal(cache.size, 3);
  equal(cache.peek("a"), "a", "recently used: kept");
  equal(cache.peek("b"), undefined, "least recently used: dropped");
});

Deno.test("key cache: unknown keys have their own bound and never evict a found entry", async () => {
  const cache = new TtlCache<string>({
    ttlMs: 1000,
    negativeTtlMs: 1000,
    maxEntries: 2,
    maxNegativeEntries: 100,
    clock: new ManualClock(0),
  });
  await cache.get("good", () => Promise.resolve("tenant"));
  for (let i = 0; i < 10_300; i++) await cache.get(`unknown-${i}`, () => Promise.resolve(null));
  equal(cache.negativeSize, 100);
  equal(cache.peek("good"), "tenant");
});

Deno.test("key cache: a found value stands in for an outage within the stale window only", async () => {
  const clock = new ManualClock(0);
  const outage = new Error("store down");
  const cache = new TtlCache<string>({
    ttlMs: 1000,
    negativeTtlMs: 100,
    maxEntries: 10,
    staleMs: 5000,
    outageRetryMs: 500,
    isOutage: (err) => err === outage,
    clock,
  });
  let stale = 0;
  const events = { onStale: () => stale++ };
  await cache.get("k", () => Promise.resolve("v1"));
  clock.advance(1500);
  let tries = 0;
  const down = () => (tries++, Promise.reject(outage));
  equal(await cache.get("k", down, events), "v1");
  equal(await cache.get("k", down, events), "v1", "served without asking again");
  equal(tries, 1);
  clock.advance(600);
  equal(await cache.get("k", down, events), "v1");
  equal(tries, 2, "asked again after outageRetryMs");
  equal(stale, 3);
  // Another failure is not an outage: no stand-in.
  clock.advance(600);
  await rejects(cache.get("k", () => Promise.reject(new Error("bug"))), /bug/);
  // The store answers: its answer wins (a revocation shows at once).
  equal(await cache.get("k", () => Promise.resolve("revoked")), "revoked");
  clock.advance(1000 + 5000);
  await rejects(cache.get("k", down), /store down/, "past the stale window: the outage shows");
  // Unknown keys are never served stale.
  await cache.get("u", () => Promise.resolve(null));
  clock.advance(200);
  await rejects(cache.get("u", down), /store down/);
});

function lru(clock: ManualClock, maxEntries = 2, idleMs = 1000) {
  return new LruCache<string>({ maxEntries, idleMs, clock });
}

Deno.test("server cache: builds once per key and reuses it", () => {
  const cache = lru(new ManualClock(0));
  let builds = 0;
  const build = () => `s${++builds}`;
  equal(cache.getOrCreate("x", build), "s1");
  equal(cache.getOrCreate("x", build), "s1");
  equal(cache.getOrCreate("y", build), "s2");
  equal(builds, 2);
});

Deno.test("server cache: evicts the least recently used beyond the bound", () => {
  const cache = lru(new ManualClock(0), 2);
  let evictions = 0;
  const events = { onEvict: () => evictions++ };
  cache.getOrCreate("a", () => "a1", events);
  cache.getOrCreate("b", () => "b1", events);
  cache.getOrCreate("a", () => "a2", events); // a is now the most recent
  cache.getOrCreate("c", () => "c1", events); // evicts b
  equal(cache.size, 2);
  equal(evictions, 1);
  equal(cache.getOrCreate("a", () => "a3", events), "a1");
  equal(cache.getOrCreate("b", () => "b2", events), "b2");
});

Deno.test("server cache: drops servers idle for longer than idleMs", () => {
  const clock = new ManualClock(0);
  const cache = lru(clock, 10, 1000);
  cache.getOrCreate("a", () => "a1");
  cache.getOrCreate("b", () => "b1");
  clock.advance(600);
  cache.getOrCreate("b", () => "b2"); // b stays warm
  clock.advance(600);
  equal(cache.getOrCreate("b", () => "b3"), "b1");
  equal(cache.size, 1, "a was idle for 1200 ms and is gone");
  equal(cache.getOrCreate("a", () => "a2"), "a2");
});
