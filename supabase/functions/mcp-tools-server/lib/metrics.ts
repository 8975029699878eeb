/** Counters for operators and tests; served at GET /metrics when a metrics token is set. */
export interface Metrics {
  requests: number;
  /** Lookups that went to the tenant store (the database). */
  storeLookups: number;
  storeErrors: number;
  /** Keys turned away by their checksum, without a lookup. */
  keysRefusedUnchecked: number;
  keyCacheHits: number;
  /** Requests served a resolved key past its TTL because the store was unreachable. */
  staleKeysServed: number;
  /** Requests refused by a key-failure budget, without a lookup. */
  keyGuessesThrottled: number;
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
    staleKeysServed: 0,
    keyGuessesThrottled: 0,
    serverBuilds: 0,
    serverCacheHits: 0,
    serverEvictions: 0,
  };
}
