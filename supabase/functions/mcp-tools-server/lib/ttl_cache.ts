/**
 * Per-isolate memory of looked-up values (keys, credentials): found values for a TTL, "not found"
 * for a shorter one, concurrent misses for one key sharing a single load. Failures are never
 * cached.
 *
 * Found and not-found answers live in two maps, each bounded and least recently used first out:
 * a flood of unknown keys can fill only its own map and never evicts a good entry. A found value
 * may also outlive its TTL by `staleMs` for one purpose: when refreshing it fails with an outage
 * (`isOutage`), the last good answer is served instead of the failure. Whenever the store answers,
 * its answer wins, so a revocation takes effect within the TTL as before.
 */
import type { Clock } from "./clock.ts";

interface Entry<V> {
  value: V;
  expiresAt: number;
  /** While the store is out: no new attempt before this time, the stale value is served. */
  retryAt?: number;
}

export interface TtlCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  clock: Clock;
  /** Upper bound on remembered "not found" answers; default: maxEntries. */
  maxNegativeEntries?: number;
  /** How long past its TTL a found value may stand in for an unreachable store; default 0. */
  staleMs?: number;
  /** After a failed refresh, how long to serve the stale value before trying the store again. */
  outageRetryMs?: number;
  /** Which load failures are outages (a stale value may stand in); default: none. */
  isOutage?: (err: unknown) => boolean;
}

export interface CacheEvents {
  onHit?: () => void;
  /** A stale value was served because the store was out. */
  onStale?: () => void;
}

export class TtlCache<V> {
  #found = new Map<string, Entry<V>>();
  #missing = new Map<string, Entry<null>>();
  #pending = new Map<string, Promise<V | null>>();

  constructor(private readonly options: TtlCacheOptions) {}

  get size(): number {
    return this.#found.size + this.#missing.size;
  }

  /** Entries remembered as "not found". */
  get negativeSize(): number {
    return this.#missing.size;
  }

  /** The fresh cached answer, if any, without loading: `undefined` when there is none. */
  peek(key: string): V | null | undefined {
    const now = this.options.clock.now();
    const found = this.#found.get(key);
    if (found && found.expiresAt > now) return touch(this.#found, key, found).value;
    const missing = this.#missing.get(key);
    if (missing && missing.expiresAt > now) return touch(this.#missing, key, missing).value;
    return undefined;
  }

  /** The cached value if fresh, else `load()`'s (shared by concurrent callers). */
  get(key: string, load: () => Promise<V | null>, events: CacheEvents = {}): Promise<V | null> {
    const cached = this.peek(key);
    if (cached !== undefined) {
      events.onHit?.();
      return Promise.resolve(cached);
    }
    const now = this.options.clock.now();
    const stale = this.#usableStale(key, now);
    if (stale?.retryAt !== undefined && stale.retryAt > now) {
      events.onStale?.();
      return Promise.resolve(stale.value);
    }
    const inFlight = this.#pending.get(key);
    if (inFlight) return inFlight;
    const loading = load()
      .then((value) => {
        this.#store(key, value);
        return value;
      }, (err) => {
        const { isOutage, outageRetryMs = 1_000, clock } = this.options;
        const last = this.#usableStale(key, clock.now());
        if (!last || !isOutage?.(err)) throw err;
        last.retryAt = clock.now() + outageRetryMs;
        events.onStale?.();
        return last.value;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, loading);
    return loading;
  }

  /** A found value past its TTL but within the stale window. */
  #usableStale(key: string, now: number): Entry<V> | undefined {
    const entry = this.#found.get(key);
    const staleMs = this.options.staleMs ?? 0;
    return entry && entry.expiresAt + staleMs > now ? entry : undefined;
  }

  #store(key: string, value: V | null): void {
    const { ttlMs, negativeTtlMs, maxEntries, maxNegativeEntries, clock } = this.options;
    this.#found.delete(key);
    this.#missing.delete(key);
    if (value === null) {
      if (negativeTtlMs <= 0) return;
      this.#missing.set(key, { value: null, expiresAt: clock.now() + negativeTtlMs });
      mostRecent.set(this.#missing, key);
      bound(this.#missing, maxNegativeEntries ?? maxEntries);
    } else {
      if (ttlMs <= 0) return;
      this.#found.set(key, { value, expiresAt: clock.now() + ttlMs });
      mostRecent.set(this.#found, key);
      bound(this.#found, maxEntries);
    }
  }
}

/**
 * Moves an entry to the most recently used end (Map order is least recently used first). An entry
 * already there stays put: re-inserting it would change nothing but leave a hole the Map must
 * later compact, on every request of a caller that sends many in a row.
 */
function touch<E>(map: Map<string, E>, key: string, entry: E): E {
  if (lastKey(map) === key) return entry;
  map.delete(key);
  map.set(key, entry);
  mostRecent.set(map, key);
  return entry;
}

/**
 * The key last added or moved to each map's end (a Map can't say which is last without a walk);
 * every insertion goes through `touch` or `#store`, which keep it.
 */
const mostRecent = new WeakMap<Map<string, unknown>, string>();
const lastKey = (map: Map<string, unknown>) => mostRecent.get(map);

function bound<E>(map: Map<string, E>, max: number): void {
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
