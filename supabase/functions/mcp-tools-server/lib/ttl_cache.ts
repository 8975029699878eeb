/**
 * Per-isolate memory of looked-up values (keys, credentials): found values for a TTL, "not found"
 * for a shorter one, concurrent misses for one key sharing a single load. Failures are never
 * cached.
 */
import type { Clock } from "./clock.ts";

interface Entry<V> {
  value: V | null;
  expiresAt: number;
}

export interface TtlCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
  clock: Clock;
}

export class TtlCache<V> {
  #entries = new Map<string, Entry<V>>();
  #pending = new Map<string, Promise<V | null>>();

  constructor(private readonly options: TtlCacheOptions) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value if fresh, else `load()`'s (shared by concurrent callers). */
  get(key: string, load: () => Promise<V | null>, onHit?: () => void): Promise<V | null> {
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > this.options.clock.now()) {
      onHit?.();
      return Promise.resolve(hit.value);
    }
    const inFlight = this.#pending.get(key);
    if (inFlight) return inFlight;
    const loading = load()
      .then((value) => {
        this.#store(key, value);
        return value;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, loading);
    return loading;
  }

  #store(key: string, value: V | null): void {
    const { ttlMs, negativeTtlMs, maxEntries, clock } = this.options;
    const ttl = value === null ? negativeTtlMs : ttlMs;
    this.#entries.delete(key); // re-insert so Map order stays oldest-first
    if (ttl <= 0) return;
    this.#entries.set(key, { value, expiresAt: clock.now() + ttl });
    // Oldest-written first: a flood of unknown keys can't grow memory past the bound.
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= maxEntries) break;
      this.#entries.delete(oldest);
    }
  }
}
