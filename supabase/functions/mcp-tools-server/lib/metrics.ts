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
  /** Token leases asked of the database (one per batch of requests per limit). */
  limiterLeases: number;
  /** Requests and tool calls refused with 429 (RATE_LIMITED, QUOTA_EXCEEDED). */
  limiterRefusals: number;
  /** Leases that could not reach the database, so the caller was let through. */
  limiterFailOpen: number;
  /** Usage events written to the database, and in how many writes. */
  usageWritten: number;
  usageWrites: number;
  /** Usage events lost: the queue was full or every retry failed. */
  usageDropped: number;
  /** Failed attempts to write a batch of usage events (retried or not). */
  usageWriteFailures: number;
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
    limiterLeases: 0,
    limiterRefusals: 0,
    limiterFailOpen: 0,
    usageWritten: 0,
    usageWrites: 0,
    usageDropped: 0,
    usageWriteFailures: 0,
  };
}
