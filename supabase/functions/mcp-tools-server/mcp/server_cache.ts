/**
 * Built servers, one per tool-set fingerprint and shared by every caller with that set: least
 * recently used out once over the bound, dropped when idle.
 */
import type { Clock } from "../lib/clock.ts";
import { LruCache } from "../lib/lru_cache.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { ToolSet } from "../tools/catalog.ts";
import type { ToolServer } from "./front.ts";

export interface ServerCacheOptions {
  maxEntries: number;
  idleMs: number;
  clock: Clock;
  metrics: Metrics;
  build(toolSet: ToolSet): ToolServer;
}

export class ServerCache {
  readonly #servers: LruCache<ToolServer>;
  readonly #events;

  constructor(private readonly options: ServerCacheOptions) {
    this.#servers = new LruCache({
      maxEntries: options.maxEntries,
      idleMs: options.idleMs,
      clock: options.clock,
    });
    const { metrics } = options;
    this.#events = {
      onHit: () => metrics.serverCacheHits++,
      onEvict: () => metrics.serverEvictions++,
    };
  }

  get size(): number {
    return this.#servers.size;
  }

  /** The server for this tool set, built on first use. */
  serverFor(toolSet: ToolSet): ToolServer {
    return this.#servers.getOrCreate(toolSet.fingerprint, () => {
      this.options.metrics.serverBuilds++;
      return this.options.build(toolSet);
    }, this.#events);
  }
}
