/**
 * How many failures an identity (a client address, a key id) may have per window before it is
 * refused outright. Per isolate: each isolate keeps its own counts, so across a deployment the
 * effective budget is this one times the isolates serving the attacker.
 */
import type { Clock } from "./clock.ts";

export interface FailureBudgetOptions {
  /** Failures allowed per window; 0 turns the budget off. */
  limit: number;
  windowMs: number;
  /** Identities tracked at once (least recently failed first out). */
  maxTracked: number;
  clock: Clock;
}

interface Window {
  failures: number;
  resetAt: number;
}

export class FailureBudget {
  #windows = new Map<string, Window>();

  constructor(private readonly options: FailureBudgetOptions) {}

  get tracked(): number {
    return this.#windows.size;
  }

  /** Milliseconds until `id` may try again; 0 when it may now. */
  blockedForMs(id: string): number {
    const { limit, clock } = this.options;
    if (limit === 0) return 0;
    const window = this.#windows.get(id);
    const now = clock.now();
    if (!window || window.resetAt <= now) return 0;
    return window.failures >= limit ? window.resetAt - now : 0;
  }

  /** Counts one failure of `id`. */
  fail(id: string): void {
    const { limit, windowMs, maxTracked, clock } = this.options;
    if (limit === 0) return;
    const now = clock.now();
    let window = this.#windows.get(id);
    this.#windows.delete(id);
    if (!window || window.resetAt <= now) window = { failures: 0, resetAt: now + windowMs };
    window.failures++;
    this.#windows.set(id, window);
    for (const oldest of this.#windows.keys()) {
      if (this.#windows.size <= maxTracked) break;
      this.#windows.delete(oldest);
    }
  }
}
