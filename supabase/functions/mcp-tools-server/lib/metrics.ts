/** Counters for operators and tests; served at GET /metrics when a metrics token is set. */
export interface Metrics {
  requests: number;
  /** Lookups that went to the tenant store (the database). */
  storeLookups: number;
  storeErrors: number;
  /** Keys turned away by their checksum, without a lookup. */
  keysRefusedUnchecked: number;
  keyCacheHits: number;
  serverBuilds: number;
  serverCacheHits: number;
  serverEvictions: number;
}

export function createMetrics(): Metrics {
  return {
    requests: 0,
    storeLookups: 0,
    storeErrors: 0,
    keysRefusedUnchecked: 0,
    keyCacheHits: 0,
    serverBuilds: 0,
    serverCacheHits: 0,
    serverEvictions: 0,
  };
}
