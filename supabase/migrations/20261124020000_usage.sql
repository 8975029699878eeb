-- Usage: what was called (an append-only event per tool call, daily rollups, retention) and how
-- much may be called (limits on key and tenant rows, enforced by leasing batches of tokens).
--
-- No scheduler is needed: the function prunes in the background (at most hourly per isolate) and
-- `deno task admin usage prune` does the same on demand; pruning first rolls complete days up, so
-- the daily figures outlive the raw events. Where pg_cron is enabled (hosted Supabase), a job
-- calling public.prune_usage(30) works as well.

-- Limits ----------------------------------------------------------------------------------------
-- Empty means unlimited. A user membership's limits (when users arrive) plug in as another
-- subject kind: the lease function reads limits per subject, the function spends per subject.

alter table public.tenants
  add column requests_per_minute integer,
  add column calls_per_day integer,
  add column calls_per_month integer,
  add constraint tenants_requests_per_minute_positive
    check (requests_per_minute is null or requests_per_minute > 0),
  add constraint tenants_calls_per_day_positive check (calls_per_day is null or calls_per_day > 0),
  add constraint tenants_calls_per_month_positive
    check (calls_per_month is null or calls_per_month > 0);

comment on column public.tenants.requests_per_minute is
  'Optional cap on MCP requests per minute for all keys of this tenant together (empty: no cap). Over it: 429 RATE_LIMITED.';
comment on column public.tenants.calls_per_day is
  'Optional cap on tool calls per UTC day for the whole tenant (empty: no cap). Over it: 429 QUOTA_EXCEEDED.';
comment on column public.tenants.calls_per_month is
  'Optional cap on tool calls per UTC calendar month for the whole tenant (empty: no cap). Over it: 429 QUOTA_EXCEEDED.';

alter table public.api_keys
  add column requests_per_minute integer,
  add column calls_per_day integer,
  add column calls_per_month integer,
  add constraint api_keys_requests_per_minute_positive
    check (requests_per_minute is null or requests_per_minute > 0),
  add constraint api_keys_calls_per_day_positive check (calls_per_day is null or calls_per_day > 0),
  add constraint api_keys_calls_per_month_positive
    check (calls_per_month is null or calls_per_month > 0);

comment on column public.api_keys.requests_per_minute is
  'Optional cap on MCP requests per minute with this key (empty: no cap). Over it: 429 RATE_LIMITED.';
comment on column public.api_keys.calls_per_day is
  'Optional cap on tool calls per UTC day with this key (empty: no cap). Over it: 429 QUOTA_EXCEEDED.';
comment on column public.api_keys.calls_per_month is
  'Optional cap on tool calls per UTC calendar month with this key (empty: no cap). Over it: 429 QUOTA_EXCEEDED.';

create table public.usage_counters (
  subject text not null,
  subject_id text not null,
  limit_name text not null,
  window_start timestamptz not null,
  leased integer not null default 0,
  updated_at timestamptz not null default now(),
  constraint usage_counters_pkey primary key (subject, subject_id, limit_name, window_start),
  constraint usage_counters_subject_known check (subject in ('tenant', 'key', 'member')),
  constraint usage_counters_limit_known
    check (limit_name in ('requests_per_minute', 'calls_per_day', 'calls_per_month')),
  constraint usage_counters_leased_not_negative check (leased >= 0)
);

comment on table public.usage_counters is
  'Limiter state: tokens handed out to the function per limit and window. Maintained by the function; pruned with usage events.';
comment on column public.usage_counters.subject is 'Who the limit belongs to: tenant or key (member when users arrive).';
comment on column public.usage_counters.subject_id is 'The tenant id, or the key id (12 characters after mcpk_).';
comment on column public.usage_counters.limit_name is 'requests_per_minute, calls_per_day or calls_per_month.';
comment on column public.usage_counters.window_start is 'Start of the minute, UTC day or UTC month counted.';
comment on column public.usage_counters.leased is
  'Tokens handed to function isolates in this window: an upper bound on what was admitted.';
comment on column public.usage_counters.updated_at is 'When tokens were last handed out.';

alter table public.usage_counters enable row level security;

-- Hands out up to p_want tokens (and at most a tenth of the limit) of one limit for the current
-- window; the limit is read from the subject's row now, so a changed limit applies at the next
-- lease. Granted tokens are counted
-- before they are spent: what a window admits never exceeds its limit.
create or replace function private.lease_limit(
  p_subject text, p_subject_id text, p_limit_name text, p_max integer, p_want integer
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_now timestamptz := clock_timestamp();
  v_unit text := case p_limit_name when 'requests_per_minute' then 'minute'
                                   when 'calls_per_day' then 'day' else 'month' end;
  v_start timestamptz := date_trunc(v_unit, v_now, 'UTC');
  v_end timestamptz := v_start + ('1 ' || v_unit)::interval;
  v_leased integer;
  v_grant integer := 0;
begin
  if p_want > 0 then
    insert into public.usage_counters (subject, subject_id, limit_name, window_start)
    values (p_subject, p_subject_id, p_limit_name, v_start)
    on conflict do nothing;
    select leased into v_leased from public.usage_counters
    where subject = p_subject and subject_id = p_subject_id and limit_name = p_limit_name
      and window_start = v_start
    for update;
    -- At most a tenth of the limit per lease: what one isolate can strand stays small.
    v_grant := least(p_want, greatest(ceil(p_max / 10.0)::integer, 1),
                     greatest(p_max - v_leased, 0));
    if v_grant > 0 then
      update public.usage_counters set leased = leased + v_grant, updated_at = v_now
      where subject = p_subject and subject_id = p_subject_id and limit_name = p_limit_name
        and window_start = v_start;
    end if;
  end if;
  return jsonb_build_object(
    'subject', p_subject, 'limit', p_limit_name, 'max', p_max, 'granted', v_grant,
    'resets_in_ms', ceil(extract(epoch from v_end - v_now) * 1000)::bigint);
end $$;

comment on function private.lease_limit(text, text, text, integer, integer) is
  'Hands out up to p_want tokens of one limit for its current window.';

-- The function's one limiter call: every limit that applies to this caller (so it learns which
-- exist), with tokens leased for those it asks for. p_want maps "<subject>.<limit>" or "<limit>"
-- to a count. Called once per batch of requests, never per request.
create or replace function public.lease_usage(
  p_tenant_id uuid, p_key_id text, p_want jsonb
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants;
  v_key public.api_keys;
  v_out jsonb := '[]'::jsonb;
  v_row record;
begin
  select * into v_tenant from public.tenants where id = p_tenant_id;
  select * into v_key from public.api_keys where key_id = p_key_id and tenant_id = p_tenant_id;
  for v_row in
    select s.subject, s.subject_id, l.name, l.max
    from (values ('tenant', p_tenant_id::text, v_tenant.requests_per_minute, v_tenant.calls_per_day,
                  v_tenant.calls_per_month),
                 ('key', p_key_id, v_key.requests_per_minute, v_key.calls_per_day,
                  v_key.calls_per_month)
         ) s(subject, subject_id, rpm, cpd, cpm)
    cross join lateral (values ('requests_per_minute', s.rpm), ('calls_per_day', s.cpd),
                               ('calls_per_month', s.cpm)) l(name, max)
    where l.max is not null and s.subject_id is not null
  loop
    v_out := v_out || private.lease_limit(v_row.subject, v_row.subject_id, v_row.name, v_row.max,
      coalesce((p_want ->> (v_row.subject || '.' || v_row.name))::integer,
               (p_want ->> v_row.name)::integer, 0));
  end loop;
  return v_out;
end $$;

comment on function public.lease_usage(uuid, text, jsonb) is
  'The function''s limiter: the limits that apply to a key and its tenant, with tokens leased in batches.';

-- Usage events ----------------------------------------------------------------------------------

create table public.usage_events (
  id bigint generated always as identity primary key,
  at timestamptz not null,
  tenant_id uuid not null,
  key_id text,
  user_id uuid,
  tool text not null,
  outcome text not null,
  latency_ms integer not null,
  arg_bytes integer not null,
  result_bytes integer not null,
  isolate text not null,
  constraint usage_events_outcome_known check (outcome in ('ok', 'tool_error', 'error')),
  constraint usage_events_sizes_not_negative
    check (latency_ms >= 0 and arg_bytes >= 0 and result_bytes >= 0)
);

create index usage_events_tenant_at_idx on public.usage_events (tenant_id, at);
create index usage_events_at_idx on public.usage_events (at);

comment on table public.usage_events is
  'One row per tool call, appended in batches by the function. Append-only; pruned after the retention (rolled up into usage_daily_rollup first).';
comment on column public.usage_events.id is 'Generated, in insertion order.';
comment on column public.usage_events.at is 'When the call finished (function clock).';
comment on column public.usage_events.tenant_id is 'The calling tenant (kept when the tenant is deleted, for the record).';
comment on column public.usage_events.key_id is 'The key used (12 characters after mcpk_), for key callers.';
comment on column public.usage_events.user_id is 'The user, for user callers.';
comment on column public.usage_events.tool is 'The tool called.';
comment on column public.usage_events.outcome is
  'ok; tool_error (the tool answered with isError); error (a protocol or internal error).';
comment on column public.usage_events.latency_ms is 'Time to run the call, in milliseconds.';
comment on column public.usage_events.arg_bytes is
  'Size of the tools/call request body (the arguments plus a small JSON-RPC envelope), in characters: bytes for ASCII.';
comment on column public.usage_events.result_bytes is
  'Size of the JSON-RPC answer, in characters: bytes for ASCII.';
comment on column public.usage_events.isolate is 'The function isolate that served the call.';

alter table public.usage_events enable row level security;

create or replace function private.usage_events_append_only() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception 'Usage events are an append-only record and cannot be changed.'
    using errcode = 'insufficient_privilege',
          hint = 'Old events are removed only by public.prune_usage (the retention).';
end $$;

comment on function private.usage_events_append_only() is 'Trigger: refuses changes to usage events.';

create trigger usage_events_append_only
before update on public.usage_events
for each row execute function private.usage_events_append_only();

create table public.usage_daily_rollup (
  day date not null,
  tenant_id uuid not null,
  tool text not null,
  key_id text not null default '',
  calls integer not null,
  errors integer not null,
  latency_p50_ms integer not null,
  latency_p95_ms integer not null,
  latency_p99_ms integer not null,
  latency_max_ms integer not null,
  arg_bytes bigint not null,
  result_bytes bigint not null,
  constraint usage_daily_rollup_pkey primary key (day, tenant_id, tool, key_id)
);

comment on table public.usage_daily_rollup is
  'Daily figures of pruned days, per tenant, tool and key, made from the raw events before they are deleted.';
comment on column public.usage_daily_rollup.day is 'UTC day.';
comment on column public.usage_daily_rollup.tenant_id is 'The tenant.';
comment on column public.usage_daily_rollup.tool is 'The tool.';
comment on column public.usage_daily_rollup.key_id is 'The key id (empty for user callers).';
comment on column public.usage_daily_rollup.calls is 'Tool calls.';
comment on column public.usage_daily_rollup.errors is 'Calls whose outcome was not ok.';
comment on column public.usage_daily_rollup.latency_p50_ms is 'Median latency, ms.';
comment on column public.usage_daily_rollup.latency_p95_ms is '95th percentile latency, ms.';
comment on column public.usage_daily_rollup.latency_p99_ms is '99th percentile latency, ms.';
comment on column public.usage_daily_rollup.latency_max_ms is 'Slowest call, ms.';
comment on column public.usage_daily_rollup.arg_bytes is 'Request bytes, summed.';
comment on column public.usage_daily_rollup.result_bytes is 'Answer bytes, summed.';

alter table public.usage_daily_rollup enable row level security;

-- The function's writer: one call per batch.
create or replace function public.record_usage(p_events jsonb) returns integer
language sql volatile set search_path = '' as $$
  with inserted as (
    insert into public.usage_events
      (at, tenant_id, key_id, user_id, tool, outcome, latency_ms, arg_bytes, result_bytes, isolate)
    select e.at, e.tenant_id, e.key_id, e.user_id, e.tool, e.outcome, e.latency_ms, e.arg_bytes,
           e.result_bytes, e.isolate
    from jsonb_to_recordset(p_events) as e(at timestamptz, tenant_id uuid, key_id text,
      user_id uuid, tool text, outcome text, latency_ms integer, arg_bytes integer,
      result_bytes integer, isolate text)
    returning 1)
  select count(*)::integer from inserted
$$;

comment on function public.record_usage(jsonb) is
  'Appends a batch of usage events (a JSON array) and returns how many were written.';

-- Rolls up every complete day older than the retention, then deletes those raw events and old
-- limiter windows. Idempotent: a day is rolled up once, as its events go.
create or replace function public.prune_usage(p_retention_days integer) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_cutoff timestamptz;
  v_rolled integer;
  v_deleted integer;
  v_windows integer;
begin
  if p_retention_days is null or p_retention_days < 1 then
    raise exception 'The retention must be at least one day, not %.', p_retention_days
      using errcode = 'invalid_parameter_value';
  end if;
  v_cutoff := date_trunc('day', now(), 'UTC') - make_interval(days => p_retention_days);
  insert into public.usage_daily_rollup
  select (e.at at time zone 'UTC')::date, e.tenant_id, e.tool, coalesce(e.key_id, ''),
         count(*), count(*) filter (where e.outcome <> 'ok'),
         percentile_disc(0.5) within group (order by e.latency_ms),
         percentile_disc(0.95) within group (order by e.latency_ms),
         percentile_disc(0.99) within group (order by e.latency_ms),
         max(e.latency_ms), sum(e.arg_bytes), sum(e.result_bytes)
  from public.usage_events e
  where e.at < v_cutoff
  group by 1, 2, 3, 4
  on conflict (day, tenant_id, tool, key_id) do update set
    calls = usage_daily_rollup.calls + excluded.calls,
    errors = usage_daily_rollup.errors + excluded.errors,
    latency_p50_ms = greatest(usage_daily_rollup.latency_p50_ms, excluded.latency_p50_ms),
    latency_p95_ms = greatest(usage_daily_rollup.latency_p95_ms, excluded.latency_p95_ms),
    latency_p99_ms = greatest(usage_daily_rollup.latency_p99_ms, excluded.latency_p99_ms),
    latency_max_ms = greatest(usage_daily_rollup.latency_max_ms, excluded.latency_max_ms),
    arg_bytes = usage_daily_rollup.arg_bytes + excluded.arg_bytes,
    result_bytes = usage_daily_rollup.result_bytes + excluded.result_bytes;
  get diagnostics v_rolled = row_count;
  delete from public.usage_events where at < v_cutoff;
  get diagnostics v_deleted = row_count;
  delete from public.usage_counters where window_start < now() - interval '62 days';
  get diagnostics v_windows = row_count;
  return jsonb_build_object('cutoff', v_cutoff, 'rolled_up_rows', v_rolled,
    'deleted_events', v_deleted, 'deleted_windows', v_windows);
end $$;

comment on function public.prune_usage(integer) is
  'Retention: rolls up and deletes raw usage events older than p_retention_days whole days.';

-- Dashboard views -------------------------------------------------------------------------------
-- security_invoker: a view reads with its reader's rights (service_role, the dashboard), never
-- its owner's.

create view public.usage_daily with (security_invoker = true) as
  select (e.at at time zone 'UTC')::date as day, t.slug as tenant, e.tool,
         coalesce(e.key_id, '') as key_id,
         count(*)::integer as calls,
         (count(*) filter (where e.outcome <> 'ok'))::integer as errors,
         percentile_disc(0.5) within group (order by e.latency_ms) as latency_p50_ms,
         percentile_disc(0.95) within group (order by e.latency_ms) as latency_p95_ms,
         percentile_disc(0.99) within group (order by e.latency_ms) as latency_p99_ms,
         max(e.latency_ms) as latency_max_ms,
         sum(e.arg_bytes)::bigint as arg_bytes,
         sum(e.result_bytes)::bigint as result_bytes
  from public.usage_events e left join public.tenants t on t.id = e.tenant_id
  group by 1, 2, 3, 4
  union all
  select r.day, t.slug, r.tool, r.key_id, r.calls, r.errors, r.latency_p50_ms,
         r.latency_p95_ms, r.latency_p99_ms, r.latency_max_ms, r.arg_bytes, r.result_bytes
  from public.usage_daily_rollup r left join public.tenants t on t.id = r.tenant_id;

comment on view public.usage_daily is
  'Tool calls per UTC day, tenant, tool and key: counts, errors, latency percentiles, bytes. Recent days from raw events, older ones from the rollup.';
comment on column public.usage_daily.day is 'UTC day.';
comment on column public.usage_daily.tenant is 'Tenant slug (empty if the tenant was deleted).';
comment on column public.usage_daily.tool is 'The tool.';
comment on column public.usage_daily.key_id is 'The key id (12 characters after mcpk_); empty for users.';
comment on column public.usage_daily.calls is 'Tool calls.';
comment on column public.usage_daily.errors is 'Calls whose outcome was not ok.';
comment on column public.usage_daily.latency_p50_ms is 'Median latency, ms.';
comment on column public.usage_daily.latency_p95_ms is '95th percentile latency, ms.';
comment on column public.usage_daily.latency_p99_ms is '99th percentile latency, ms.';
comment on column public.usage_daily.latency_max_ms is 'Slowest call, ms.';
comment on column public.usage_daily.arg_bytes is 'Request bytes, summed.';
comment on column public.usage_daily.result_bytes is 'Answer bytes, summed.';

create view public.usage_recent_failures with (security_invoker = true) as
  select e.at, t.slug as tenant, e.key_id, e.user_id, e.tool, e.outcome, e.latency_ms, e.isolate
  from public.usage_events e left join public.tenants t on t.id = e.tenant_id
  where e.outcome <> 'ok'
  order by e.at desc
  limit 1000;

comment on view public.usage_recent_failures is
  'The latest 1000 tool calls that failed (tool_error or error), newest first.';
comment on column public.usage_recent_failures.at is 'When the call finished.';
comment on column public.usage_recent_failures.tenant is 'Tenant slug.';
comment on column public.usage_recent_failures.key_id is 'The key id, for key callers.';
comment on column public.usage_recent_failures.user_id is 'The user, for user callers.';
comment on column public.usage_recent_failures.tool is 'The tool.';
comment on column public.usage_recent_failures.outcome is 'tool_error or error.';
comment on column public.usage_recent_failures.latency_ms is 'Time to run the call, ms.';
comment on column public.usage_recent_failures.isolate is 'The function isolate that served it.';

-- Admin report: `deno task admin usage <tenant> [--since] [--by tool|key|day]`.
create or replace function public.usage_report(
  p_tenant_slug text, p_since timestamptz default null, p_by text default 'tool'
) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_since date := coalesce((p_since at time zone 'UTC')::date, (now() at time zone 'UTC')::date - 30);
  v_rows jsonb;
begin
  if p_by is null or p_by not in ('tool', 'key', 'day') then
    raise exception 'Group usage by tool, key or day, not "%".', p_by
      using errcode = 'invalid_parameter_value';
  end if;
  select coalesce(jsonb_agg(to_jsonb(g) order by g.calls desc, g.group_key), '[]'::jsonb)
  into v_rows
  from (
    select case p_by when 'tool' then u.tool when 'key' then u.key_id else u.day::text end
             as group_key,
           sum(u.calls)::integer as calls, sum(u.errors)::integer as errors,
           -- Across days, the worst day's percentile: an upper bound, never an average.
           max(u.latency_p50_ms) as latency_p50_ms, max(u.latency_p95_ms) as latency_p95_ms,
           max(u.latency_p99_ms) as latency_p99_ms, max(u.latency_max_ms) as latency_max_ms
    from public.usage_daily u
    where u.tenant = v_tenant.slug and u.day >= v_since
    group by 1
  ) g;
  return jsonb_build_object('tenant', v_tenant.slug, 'since', v_since, 'by', p_by,
                            'rows', v_rows);
end $$;

comment on function public.usage_report(text, timestamptz, text) is
  'Usage of one tenant since a day (default: 30 days ago), grouped by tool, key or day.';

grant execute on function
  public.lease_usage(uuid, text, jsonb),
  public.record_usage(jsonb),
  public.prune_usage(integer),
  public.usage_report(text, timestamptz, text),
  private.lease_limit(text, text, text, integer, integer)
to service_role;
