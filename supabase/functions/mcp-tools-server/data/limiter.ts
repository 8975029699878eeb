/**
 * Rate limits and quotas that hold across isolates without a database call per request.
 *
 * Limits live on three rows, each a subject of its own: the tenant (`tenant`), the API key (`key`)
 * and a user's membership in the tenant (`member`, on `tenant_members`). A key caller is under its
 * key's limits and its tenant's; a signed-in user under their membership's and their tenant's. A
 * request is admitted only when every limit of its kind has a token, and spends one from each.
 * An isolate leases tokens from Postgres in batches (`lease_usage`, atomic per limit and window) and
 * spends them locally; a lease is counted before its tokens are spent and expires with its window,
 * so no window ever admits more than its limit. Per limit (a tenant's, a key's or a member's alike):
 *
 *   admitted(window) ≤ limit                       (overshoot: none)
 *   refused early ≤ (I − 1) × (b + ⌊b / 4⌋)        (tokens stranded in other isolates)
 *
 * for I isolates holding leases, each lease b ≤ min(B, ⌈limit / 10⌉). A lease is sized to about a
 * second of the caller's recent rate (at least 10, at most B = LIMIT_LEASE_BATCH; the database
 * caps it at a tenth of the limit), so a busy caller costs about one lease per second per limit
 * and an idle one never strands much. The next lease is asked when a quarter of the last one is
 * left (hence ⌊b / 4⌋ above), in the background: in steady state no request waits for one.
 * Windows are fixed (minute, UTC day, UTC month), so a burst across a boundary may reach
 * 2 × limit within one rolling minute. The limits a caller is under are re-read at most every
 * `ttlMs` (the key cache TTL): a changed limit applies within it. If the database can't be reached
 * the limiter lets requests through (counted, logged) rather than turn a blip into an outage;
 * authentication already guards who gets in.
 */
import { ApiError } from "../lib/api_error.ts";
import type { Background } from "../lib/background.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import { type Rpc, StoreUnavailableError } from "./rpc.ts";

/** What is being admitted: any MCP request, or a tool call (which is also a request). */
export type LimitKind = "request" | "call";
/** Whose limit: a tenant's, a key's, or a user's membership in a tenant. */
export type LimitSubject = "tenant" | "key" | "member";
type LimitName = "requests_per_minute" | "calls_per_day" | "calls_per_month";

const KIND_OF: Record<LimitName, LimitKind> = {
  requests_per_minute: "request",
  calls_per_day: "call",
  calls_per_month: "call",
};
const NAMES_OF: Record<LimitKind, LimitName[]> = {
  request: ["requests_per_minute"],
  call: ["calls_per_day", "calls_per_month"],
};
const PER: Record<LimitName, string> = {
  requests_per_minute: "requests per minute",
  calls_per_day: "tool calls per day (UTC)",
  calls_per_month: "tool calls per month (UTC)",
};

/**
 * Who is asking, as the limiter needs it: a key caller and a user caller both fit as they are (no
 * copy per request).
 */
export interface LimitedCaller {
  tenant: { id: string; slug: string };
  /** The key's public id, for a key caller. */
  keyId?: string;
  /** Safe to show: the key's display prefix, for a key caller. */
  keyPrefix?: string;
  /** The Supabase Auth user id, for a signed-in person: their membership's limits apply. */
  userId?: string;
}

/** Whose limits: the key, the membership, or the tenant alone (names a pending lease). */
const holder = (caller: LimitedCaller) =>
  caller.keyId ??
    (caller.userId === undefined
      ? `tenant:${caller.tenant.id}`
      : `member:${caller.tenant.id}/${caller.userId}`);

/** The id a subject's counters go under (the database's usage_counters.subject_id). */
function subjectId(subject: LimitSubject, caller: LimitedCaller): string {
  if (subject === "tenant") return caller.tenant.id;
  if (subject === "key") return caller.keyId ?? "";
  return `${caller.tenant.id}/${caller.userId}`;
}

interface Bucket {
  subject: LimitSubject;
  name: LimitName;
  kind: LimitKind;
  max: number;
  /** Leased and not yet spent. */
  tokens: number;
  /** Local time the window ends (conservative: measured from before the lease was asked). */
  windowEnd: number;
  /** Set when a lease came back empty: refuse without asking again until then. */
  emptyUntil: number;
  /** When the last lease was asked, and what it granted: the caller's recent rate. */
  leasedAt: number;
  lastGrant: number;
}

/** The smallest lease asked: keeps a slow caller at one database call per ten requests at most. */
const MIN_LEASE = 10;
/** A lease covers about this long at the caller's recent rate. */
const LEASE_SPAN_MS = 1_000;

interface CallerLimits {
  buckets: Bucket[];
  /** Limits are re-read after this. */
  checkedUntil: number;
}

interface LeaseRow {
  subject: LimitSubject;
  limit: LimitName;
  max: number;
  granted: number;
  resets_in_ms: number;
}

export interface LimiterOptions {
  rpc: Rpc;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  /** The largest lease (B). */
  batch: number;
  /** How long a caller's limits are trusted (the key cache TTL). */
  ttlMs: number;
  /** How long to let a caller through unchecked after the database could not be reached. */
  failOpenMs: number;
  /** Where leases asked ahead of need run. */
  background: Background;
}

export class Limiter {
  /** Limits of key callers (by key id) and of callers with neither key nor user (by tenant id). */
  #callers = new Map<string, CallerLimits>();
  /** Limits of users, by tenant id then user id: a warm request looks up strings it already has. */
  #members = new Map<string, Map<string, CallerLimits>>();
  #memberCount = 0;
  #buckets = new Map<string, Bucket>();
  #pending = new Map<string, Promise<void>>();

  constructor(private readonly options: LimiterOptions) {}

  /** Limiter state for the operator snapshot. */
  stats() {
    let tokens = 0;
    for (const bucket of this.#buckets.values()) tokens += bucket.tokens;
    return {
      callers: this.#callers.size + this.#memberCount,
      buckets: this.#buckets.size,
      localTokens: tokens,
    };
  }

  #limitsOf(caller: LimitedCaller): CallerLimits | undefined {
    if (caller.userId === undefined) return this.#callers.get(caller.keyId ?? caller.tenant.id);
    return this.#members.get(caller.tenant.id)?.get(caller.userId);
  }

  #setLimits(caller: LimitedCaller, limits: CallerLimits): void {
    if (caller.userId === undefined) {
      this.#callers.set(caller.keyId ?? caller.tenant.id, limits);
      return;
    }
    let byUser = this.#members.get(caller.tenant.id);
    if (!byUser) this.#members.set(caller.tenant.id, byUser = new Map());
    if (!byUser.has(caller.userId)) this.#memberCount++;
    byUser.set(caller.userId, limits);
  }

  /**
   * The key lookup found no limit on this key or its tenant: nothing to lease for it until its
   * limits are next due to be re-read (`ttlMs`, as after an empty lease). A key's first request
   * then costs the lookup alone.
   */
  unlimited(caller: LimitedCaller): void {
    this.#setLimits(caller, {
      buckets: [],
      checkedUntil: this.options.clock.now() + this.options.ttlMs,
    });
  }

  /**
   * Admits one request (or tool call) or throws a 429 ApiError naming the limit. Synchronous —
   * undefined — when local tokens decide; a promise only when a lease is needed (once per batch).
   */
  admit(caller: LimitedCaller, kind: LimitKind): Promise<void> | undefined {
    const limits = this.#limitsOf(caller);
    if (limits && limits.checkedUntil > this.options.clock.now()) {
      if (limits.buckets.length === 0 || this.#take(limits, kind, caller, false)) return undefined;
    }
    return this.#leaseAndTake(caller, kind);
  }

  /** Spends a token from every bucket of `kind`; false when a lease is needed first. */
  #take(limits: CallerLimits, kind: LimitKind, caller: LimitedCaller, leased: boolean): boolean {
    const now = this.options.clock.now();
    let ready = true;
    for (const bucket of limits.buckets) {
      if (bucket.kind !== kind || (bucket.tokens > 0 && bucket.windowEnd > now)) continue;
      if (bucket.windowEnd > now && (bucket.emptyUntil > now || leased)) {
        this.#refuse(bucket, caller, now);
      }
      ready = false;
    }
    if (!ready) return false;
    let low = false;
    for (const bucket of limits.buckets) {
      if (bucket.kind !== kind) continue;
      bucket.tokens--;
      if (bucket.tokens * 4 <= bucket.lastGrant) low = true;
    }
    // A quarter of the last lease left: the next one is asked now, so no request waits for it.
    if (low) this.#prefetch(caller, kind);
    return true;
  }

  #prefetch(caller: LimitedCaller, kind: LimitKind): void {
    const leaseId = `${holder(caller)}:${kind}`;
    if (this.#pending.has(leaseId)) return;
    const pending = this.#lease(caller, kind)
      .catch((err) => this.options.log.error("limiter_lease_failed", { error: err }))
      .finally(() => this.#pending.delete(leaseId));
    this.#pending.set(leaseId, pending);
    this.options.background.run(() => pending);
  }

  async #leaseAndTake(caller: LimitedCaller, kind: LimitKind): Promise<void> {
    // A lease can be raced empty by this isolate's own concurrent requests: ask again, a few times.
    // Concurrent requests of one caller share one lease per kind.
    const leaseId = `${holder(caller)}:${kind}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      let pending = this.#pending.get(leaseId);
      if (!pending) {
        pending = this.#lease(caller, kind).finally(() => this.#pending.delete(leaseId));
        this.#pending.set(leaseId, pending);
      }
      await pending;
      const limits = this.#limitsOf(caller);
      if (!limits || limits.buckets.length === 0) return;
      if (this.#take(limits, kind, caller, attempt > 0)) return;
    }
    const limits = this.#limitsOf(caller);
    const bucket = limits?.buckets.find((b) => b.kind === kind && b.tokens <= 0);
    if (bucket) this.#refuse(bucket, caller, this.options.clock.now());
  }

  async #lease(caller: LimitedCaller, kind: LimitKind): Promise<void> {
    const { rpc, clock, metrics, log, batch, ttlMs, failOpenMs } = this.options;
    const sentAt = clock.now();
    const known = this.#limitsOf(caller);
    const want: Record<string, number> = {};
    if (known && known.checkedUntil > sentAt) {
      for (const b of known.buckets) {
        if (b.kind === kind && (b.tokens * 4 <= b.lastGrant || b.windowEnd <= sentAt)) {
          want[`${b.subject}.${b.name}`] = leaseSize(b, sentAt, batch);
        }
      }
    } else {
      for (const name of NAMES_OF[kind]) want[name] = Math.min(MIN_LEASE, batch);
    }
    let rows: LeaseRow[];
    try {
      metrics.limiterLeases++;
      rows = await rpc.call("lease_usage", {
        p_tenant_id: caller.tenant.id,
        p_key_id: caller.keyId ?? null,
        p_user_id: caller.userId ?? null,
        p_want: want,
      }) as LeaseRow[];
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      metrics.limiterFailOpen++;
      log.error("limiter_unavailable", { tenant: caller.tenant.slug, error: err });
      this.#setLimits(caller, { buckets: [], checkedUntil: clock.now() + failOpenMs });
      return;
    }
    const buckets: Bucket[] = [];
    for (const row of rows) {
      const key = `${row.subject}:${subjectId(row.subject, caller)}:${row.limit}`;
      let bucket = this.#buckets.get(key);
      if (!bucket) {
        bucket = {
          subject: row.subject,
          name: row.limit,
          kind: KIND_OF[row.limit],
          max: row.max,
          tokens: 0,
          windowEnd: 0,
          emptyUntil: 0,
          leasedAt: 0,
          lastGrant: 0,
        };
        this.#buckets.set(key, bucket);
      }
      const windowEnd = sentAt + row.resets_in_ms;
      // Tokens of an ended window are void; a new window starts from this lease.
      if (bucket.windowEnd <= sentAt) bucket.tokens = 0;
      bucket.tokens += row.granted;
      bucket.windowEnd = windowEnd;
      bucket.max = row.max;
      const asked = (want[`${row.subject}.${row.limit}`] ?? want[row.limit] ?? 0) > 0;
      bucket.emptyUntil = asked && row.granted === 0 ? Math.min(windowEnd, sentAt + ttlMs) : 0;
      if (asked) {
        bucket.leasedAt = sentAt;
        bucket.lastGrant = row.granted;
      }
      buckets.push(bucket);
    }
    this.#setLimits(caller, { buckets, checkedUntil: sentAt + ttlMs });
    // Bounded memory: callers and buckets not seen for a while go (they are re-read on demand).
    if (this.#callers.size + this.#memberCount > 10_000) this.#sweep(sentAt);
  }

  #sweep(now: number): void {
    for (const [id, limits] of this.#callers) {
      if (limits.checkedUntil <= now) this.#callers.delete(id);
    }
    for (const [tenantId, byUser] of this.#members) {
      for (const [userId, limits] of byUser) {
        if (limits.checkedUntil > now) continue;
        byUser.delete(userId);
        this.#memberCount--;
      }
      if (byUser.size === 0) this.#members.delete(tenantId);
    }
    for (const [key, bucket] of this.#buckets) {
      if (bucket.windowEnd <= now) this.#buckets.delete(key);
    }
  }

  #refuse(bucket: Bucket, caller: LimitedCaller, now: number): never {
    this.options.metrics.limiterRefusals++;
    const retryAfter = Math.max(1, Math.ceil((bucket.windowEnd - now) / 1000));
    const who = bucket.subject === "tenant"
      ? `The tenant "${caller.tenant.slug}"`
      : bucket.subject === "key"
      ? `The API key ${caller.keyPrefix}…`
      : `The membership of user ${caller.userId} in tenant "${caller.tenant.slug}"`;
    const limit = `${bucket.subject}.${bucket.name}`;
    const code = bucket.kind === "request" ? "RATE_LIMITED" : "QUOTA_EXCEEDED";
    throw new ApiError(
      code,
      `${who} has used its ${bucket.max} ${PER[bucket.name]} (limit ${limit}). ` +
        `Retry after ${retryAfter} s, or ask an admin to raise the limit.`,
      { "retry-after": String(retryAfter) },
      { limit, retry_after_s: retryAfter },
    );
  }
}

/** About a second's worth at the rate the last lease was spent, within [MIN_LEASE, batch]. */
function leaseSize(bucket: Bucket, now: number, batch: number): number {
  const elapsed = now - bucket.leasedAt;
  const perSpan = bucket.leasedAt === 0 || elapsed <= 0
    ? batch
    : Math.ceil((bucket.lastGrant * LEASE_SPAN_MS) / elapsed);
  return Math.max(Math.min(MIN_LEASE, batch), Math.min(batch, perSpan));
}
