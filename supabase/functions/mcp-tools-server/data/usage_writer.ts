/**
 * Usage events, off the response path: each tool call is queued in memory and written in batches
 * (`record_usage`, one call per batch) when the batch is full or `flushMs` after the first queued
 * event, by background work (lib/background.ts). A failed write is retried a bounded number of
 * times, never failing a request; the queue is bounded, so an outage costs dropped events (counted
 * and logged), never unbounded memory.
 */
import type { Background } from "../lib/background.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import { type Rpc, StoreUnavailableError } from "./rpc.ts";

export type ToolOutcome = "ok" | "tool_error" | "error";

/** One row of public.usage_events, as record_usage takes it. */
export interface UsageEvent {
  at: string;
  tenant_id: string;
  key_id: string | null;
  user_id: string | null;
  tool: string;
  outcome: ToolOutcome;
  latency_ms: number;
  arg_bytes: number;
  result_bytes: number;
  isolate: string;
}

export interface UsageWriterOptions {
  rpc: Rpc;
  background: Background;
  metrics: Metrics;
  log: Logger;
  /** Events per write; a full batch is written at once. */
  batchSize: number;
  /** Longest an event waits for its batch to fill. */
  flushMs: number;
  /** Events held at most; beyond, new events are dropped (and counted). */
  maxQueued: number;
  /** Further attempts after a failed write, with doubling delays from `retryDelayMs`. */
  retries: number;
  retryDelayMs: number;
  /** Raw events older than this many days are rolled up and pruned; 0: never. */
  retentionDays: number;
  /** Epoch ms; for the hourly prune. */
  now: () => number;
}

const PRUNE_EVERY_MS = 3_600_000;

export class UsageWriter {
  #queue: UsageEvent[] = [];
  #timerSet = false;
  #draining: Promise<void> | undefined;
  #droppedUnlogged = 0;
  #lastPrune = -Infinity;

  constructor(private readonly options: UsageWriterOptions) {}

  get queued(): number {
    return this.#queue.length;
  }

  /** O(1); the write happens later, in the background. */
  record(event: UsageEvent): void {
    const { maxQueued, batchSize, metrics } = this.options;
    if (this.#queue.length >= maxQueued) {
      metrics.usageDropped++;
      this.#droppedUnlogged++;
      return;
    }
    this.#queue.push(event);
    // While a drain runs, it schedules what arrives meanwhile when it ends.
    if (this.#draining) return;
    if (this.#queue.length >= batchSize || !this.#timerSet) this.#scheduleRest();
  }

  /** Writes what is queued now (one drain at a time), then schedules what arrived meanwhile. */
  drain(): Promise<void> {
    return this.#draining ??= this.#drainAll().finally(() => {
      this.#draining = undefined;
      this.#scheduleRest();
    });
  }

  async #drainAll(): Promise<void> {
    const { batchSize, log, metrics } = this.options;
    // What is queued now, in batches; a partial batch arriving meanwhile waits for its timer (or
    // for a full batch), so a slow database sees full batches rather than a stream of small ones.
    for (let left = this.#queue.length; left > 0;) {
      const batch = this.#queue.splice(0, Math.min(batchSize, left));
      left -= batch.length;
      if (await this.#write(batch)) {
        metrics.usageWritten += batch.length;
        metrics.usageWrites++;
      } else {
        metrics.usageDropped += batch.length;
        this.#droppedUnlogged += batch.length;
      }
    }
    if (this.#droppedUnlogged > 0) {
      log.error("usage_events_dropped", {
        count: this.#droppedUnlogged,
        total: metrics.usageDropped,
        reason: "the database could not take them (queue full or writes failed after retries)",
      });
      this.#droppedUnlogged = 0;
    }
    await this.#pruneHourly();
  }

  /** A full batch is written now, a partial one when its timer fires. */
  #scheduleRest(): void {
    const { batchSize, background, flushMs } = this.options;
    if (this.#queue.length >= batchSize) {
      background.run(() => this.drain());
    } else if (this.#queue.length > 0 && !this.#timerSet) {
      this.#timerSet = true;
      background.run(async () => {
        await delay(flushMs);
        this.#timerSet = false;
        await this.drain();
      });
    }
  }

  async #write(batch: UsageEvent[]): Promise<boolean> {
    const { rpc, retries, retryDelayMs, log, metrics } = this.options;
    for (let attempt = 0;; attempt++) {
      try {
        await rpc.call("record_usage", { p_events: batch });
        return true;
      } catch (err) {
        metrics.usageWriteFailures++;
        // Only an outage is worth retrying; a refused batch would be refused again.
        if (!(err instanceof StoreUnavailableError) || attempt >= retries) {
          log.error("usage_write_failed", {
            events: batch.length,
            attempts: attempt + 1,
            error: err,
          });
          return false;
        }
        await delay(retryDelayMs * 2 ** attempt);
      }
    }
  }

  async #pruneHourly(): Promise<void> {
    const { retentionDays, now, rpc, log } = this.options;
    if (retentionDays <= 0 || now() - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now();
    try {
      const result = await rpc.call("prune_usage", { p_retention_days: retentionDays });
      log.info("usage_pruned", { result });
    } catch (err) {
      log.error("usage_prune_failed", { error: err });
    }
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
