/**
 * Built servers, one per tool-set fingerprint: least recently used first out once over the
 * bound, and dropped when idle so a rarely used tool set doesn't pin memory.
 */
import type { Clock } from "./clock.ts";

interface Slot<V> {
  value: V;
  lastUsed: number;
}

export interface LruOptions {
  maxEntries: number;
  idleMs: number;
  clock: Clock;
}

export class LruCache<V> {
  #slots = new Map<string, Slot<V>>();
  /** The key at the Map's end: the most recently used. */
  #last: string | undefined;

  constructor(private readonly options: LruOptions) {}

  get size(): number {
    return this.#slots.size;
  }

  /** Returns the cached value, or builds, caches and returns a new one. */
  getOrCreate(
    key: string,
    create: () => V,
    events: { onHit?: () => void; onEvict?: () => void } = {},
  ): V {
    const now = this.options.clock.now();
    this.#evictIdle(now, events.onEvict);
    const slot = this.#slots.get(key);
    if (slot) {
      slot.lastUsed = now;
      // Move to the most recently used end, unless it is there already (a re-insertion would
      // leave a hole for the Map to compact, on every request of a busy tool set).
      if (this.#last !== key) {
        this.#slots.delete(key);
        this.#slots.set(key, slot);
        this.#last = key;
      }
      events.onHit?.();
      return slot.value;
    }
    const value = create();
    this.#slots.set(key, { value, lastUsed: now });
    this.#last = key;
    for (const oldest of this.#slots.keys()) {
      if (this.#slots.size <= this.options.maxEntries) break;
      this.#slots.delete(oldest);
      events.onEvict?.();
    }
    return value;
  }

  /** Map order is least recently used first, so only the idle head needs checking. */
  #evictIdle(now: number, onEvict?: () => void): void {
    for (const [key, slot] of this.#slots) {
      if (now - slot.lastUsed < this.options.idleMs) break;
      this.#slots.delete(key);
      onEvict?.();
    }
  }
}
