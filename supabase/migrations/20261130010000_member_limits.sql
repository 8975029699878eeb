-- Limits on a user's membership, and usage attributed to users.
--
-- A signed-in person acts in a tenant through their tenant_members row; the same three limits as on
-- keys and tenants can be set there. A user caller is then under their membership's limits AND the
-- tenant's, enforced by the same leasing (subject 'member', counted per tenant and user). Usage
-- rollups, the daily view and the admin report carry the user beside the key.

-- Limits on the membership row -----------------------------------------------------------------

alter table public.tenant_members
  add column requests_per_minute integer,
  add column calls_per_day integer,
  add column calls_per_month integer,
  add constraint tenant_members_requests_per_minute_positive
    check (requests_per_minute is null or requests_per_minute > 0),
  add constraint tenant_members_calls_per_day_positive
    check (calls_per_day is null or calls_per_day > 0),
  add constraint tenant_members_calls_per_month_positive
    check (calls_per_month is null or calls_per_month > 0);

comment on column public.tenant_members.requests_per_minute is
  'Optional cap on MCP requests per minute for this user in this tenant (empty: no cap; the tenant''s own cap still applies). Over it: 429 RATE_LIMITED.';
comment on column public.tenant_members.calls_per_day is
  'Optional cap on tool calls per UTC day for this user in this tenant (empty: no cap; the tenant''s own cap still applies). Over it: 429 QUOTA_EXCEEDED.';
comment on column public.tenant_members.calls_per_month is
  'Optional cap on tool calls per UTC calendar month for this user in this tenant (empty: no cap; the tenant''s own cap still applies). Over it: 429 QUOTA_EXCEEDED.';

comment on column public.usage_counters.subject is
  'Who the limit belongs to: tenant, key, or member (a user in one tenant).';
comment on column public.usage_counters.subject_id is
  'The tenant id; the key id (12 characters after mcpk_); or, for a member, "<tenant id>/<user id>".';

-- The limiter learns the member subject ----------------------------------------------------------

drop function if exists public.lease_usage(uuid, text, jsonb);

-- The function's one limiter call: every limit that applies to this caller (so it learns which
-- exist), with tokens leased for those it asks for. A key caller gives p_key_id, a user caller
-- p_user_id; the tenant's limits apply to both. p_want maps "<subject>.<limit>" or "<limit>" to a
-- count. Called once per batch of requests, never per request.
create function public.lease_usage(
  p_tenant_id uuid, p_key_id text, p_user_id uuid, p_want jsonb
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants;
  v_key public.api_keys;
  v_member public.tenant_members;
  v_out jsonb := '[]'::jsonb;
  v_row record;
begin
  select * into v_tenant from public.tenants where id = p_tenant_id;
  if p_key_id is not null then
    select * into v_key from public.api_keys where key_id = p_key_id and tenant_id = p_tenant_id;
  end if;
  if p_user_id is not null then
    select * into v_member from public.tenant_members
    where tenant_id = p_tenant_id and user_id = p_user_id;
  end if;
  for v_row in
    select s.subject, s.subject_id, l.name, l.max
    from (values ('tenant', p_tenant_id::text, v_tenant.requests_per_minute, v_tenant.calls_per_day,
                  v_tenant.calls_per_month),
                 ('key', p_key_id, v_key.requests_per_minute, v_key.calls_per_day,
                  v_key.calls_per_month),
                 ('member', p_tenant_id::text || '/' || p_user_id::text,
                  v_member.requests_per_minute, v_member.calls_per_day, v_member.calls_per_month)
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

comment on function public.lease_usage(uuid, text, uuid, jsonb) is
  'The function''s limiter: the limits that apply to a key or a user''s membership and to its tenant, with tokens leased in batches.';

-- Admin: set or clear a membership's limits ------------------------------------------------------

create or replace function private.member_view(m public.tenant_members) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'tenant', (select t.slug from public.tenants t where t.id = m.tenant_id),
    'user_id', m.user_id,
    'email', (select u.email from auth.users u where u.id = m.user_id),
    'role', m.role,
    'requests_per_minute', m.requests_per_minute,
    'calls_per_day', m.calls_per_day,
    'calls_per_month', m.calls_per_month,
    'created_at', m.created_at)
$$;

-- p_limits: {"requests_per_minute": 60, "calls_per_day": null, …}; a limit given as null is
-- cleared (no cap), a limit left out keeps its value.
create or replace function public.set_member_limits(
  p_tenant_slug text, p_user text, p_limits jsonb
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_user_id uuid := private.user_by_ref(p_user);
  v_member public.tenant_members;
  v_unknown text;
  v_name text;
begin
  if p_limits is null or jsonb_typeof(p_limits) <> 'object' then
    raise exception 'Member limits must be a JSON object, e.g. {"calls_per_day": 1000}.'
      using errcode = 'invalid_parameter_value';
  end if;
  select string_agg(k, ', ') into v_unknown from jsonb_object_keys(p_limits) k
  where k not in ('requests_per_minute', 'calls_per_day', 'calls_per_month');
  if v_unknown is not null then
    raise exception 'Unknown limit(s): %.', v_unknown
      using errcode = 'invalid_parameter_value',
            hint = 'Limits are requests_per_minute, calls_per_day and calls_per_month.';
  end if;
  foreach v_name in array array['requests_per_minute', 'calls_per_day', 'calls_per_month'] loop
    if jsonb_typeof(p_limits -> v_name) not in ('number', 'null')
       or (jsonb_typeof(p_limits -> v_name) = 'number'
           and (p_limits ->> v_name)::numeric <> trunc((p_limits ->> v_name)::numeric)) then
      raise exception '% must be a whole number or null (no cap), not %.', v_name, p_limits -> v_name
        using errcode = 'invalid_parameter_value';
    end if;
  end loop;
  update public.tenant_members set
    requests_per_minute = case when p_limits ? 'requests_per_minute'
      then (p_limits ->> 'requests_per_minute')::integer else requests_per_minute end,
    calls_per_day = case when p_limits ? 'calls_per_day'
      then (p_limits ->> 'calls_per_day')::integer else calls_per_day end,
    calls_per_month = case when p_limits ? 'calls_per_month'
      then (p_limits ->> 'calls_per_month')::integer else calls_per_month end
  where tenant_id = v_tenant.id and user_id = v_user_id
  returning * into v_member;
  if v_member.tenant_id is null then
    raise exception '"%" is not a member of tenant "%".', p_user, p_tenant_slug
      using errcode = 'no_data_found', hint = 'Add the user first (member add).';
  end if;
  return private.member_view(v_member);
end $$;

comment on function public.set_member_limits(text, text, jsonb) is
  'Admin: sets (a number) or clears (null) a member''s requests_per_minute, calls_per_day and calls_per_month; limits left out keep their value.';

-- Usage attributed to users ----------------------------------------------------------------------

alter table public.usage_daily_rollup
  add column user_id text not null default '',
  drop constraint usage_daily_rollup_pkey,
  add constraint usage_daily_rollup_pkey primary key (day, tenant_id, tool, key_id, user_id);

comment on table public.usage_daily_rollup is
  'Daily figures of pruned days, per tenant, tool, key and user, made from the raw events before they are deleted.';
comment on column public.usage_daily_rollup.user_id is 'The user id (empty for key callers).';

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
  insert into public.usage_daily_rollup (day, tenant_id, tool, key_id, user_id, calls, errors,
    latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_max_ms, arg_bytes, result_bytes)
  select (e.at at time zone 'UTC')::date, e.tenant_id, e.tool, coalesce(e.key_id, ''),
         coalesce(e.user_id::text, ''),
         count(*), count(*) filter (where e.outcome <> 'ok'),
         percentile_disc(0.5) within group (order by e.latency_ms),
         percentile_disc(0.95) within group (order by e.latency_ms),
         percentile_disc(0.99) within group (order by e.latency_ms),
         max(e.latency_ms), sum(e.arg_bytes), sum(e.result_bytes)
  from public.usage_events e
  where e.at < v_cutoff
  group by 1, 2, 3, 4, 5
  on conflict (day, tenant_id, tool, key_id, user_id) do update set
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

-- The user goes beside the key: the view is made again (a column can't be inserted in place).
drop view public.usage_daily;

create view public.usage_daily with (security_invoker = true) as
  select (e.at at time zone 'UTC')::date as day, t.slug as tenant, e.tool,
         coalesce(e.key_id, '') as key_id,
         coalesce(e.user_id::text, '') as user_id,
         count(*)::integer as calls,
         (count(*) filter (where e.outcome <> 'ok'))::integer as errors,
         percentile_disc(0.5) within group (order by e.latency_ms) as latency_p50_ms,
         percentile_disc(0.95) within group (order by e.latency_ms) as latency_p95_ms,
         percentile_disc(0.99) within group (order by e.latency_ms) as latency_p99_ms,
         max(e.latency_ms) as latency_max_ms,
         sum(e.arg_bytes)::bigint as arg_bytes,
         sum(e.result_bytes)::bigint as result_bytes
  from public.usage_events e left join public.tenants t on t.id = e.tenant_id
  group by 1, 2, 3, 4, 5
  union all
  select r.day, t.slug, r.tool, r.key_id, r.user_id, r.calls, r.errors, r.latency_p50_ms,
         r.latency_p95_ms, r.latency_p99_ms, r.latency_max_ms, r.arg_bytes, r.result_bytes
  from public.usage_daily_rollup r left join public.tenants t on t.id = r.tenant_id;

comment on view public.usage_daily is
  'Tool calls per UTC day, tenant, tool, key and user: counts, errors, latency percentiles, bytes. Recent days from raw events, older ones from the rollup.';
comment on column public.usage_daily.day is 'UTC day.';
comment on column public.usage_daily.tenant is 'Tenant slug (empty if the tenant was deleted).';
comment on column public.usage_daily.tool is 'The tool.';
comment on column public.usage_daily.key_id is 'The key id (12 characters after mcpk_); empty for users.';
comment on column public.usage_daily.user_id is 'The user id (Authentication → Users); empty for keys.';
comment on column public.usage_daily.calls is 'Tool calls.';
comment on column public.usage_daily.errors is 'Calls whose outcome was not ok.';
comment on column public.usage_daily.latency_p50_ms is 'Median latency, ms.';
comment on column public.usage_daily.latency_p95_ms is '95th percentile latency, ms.';
comment on column public.usage_daily.latency_p99_ms is '99th percentile latency, ms.';
comment on column public.usage_daily.latency_max_ms is 'Slowest call, ms.';
comment on column public.usage_daily.arg_bytes is 'Request bytes, summed.';
comment on column public.usage_daily.result_bytes is 'Answer bytes, summed.';

-- Reads auth.users, which only Supabase Auth's own roles and postgres may; hence definer.
create or replace function private.user_email(p_user_id text) returns text
language sql stable security definer set search_path = '' as $$
  select u.email::text from auth.users u where u.id::text = p_user_id
$$;

comment on function private.user_email(text) is 'A user''s email, for usage reports by user.';

-- Admin report: `deno task admin usage <tenant> [--since] [--by tool|key|user|day]`.
create or replace function public.usage_report(
  p_tenant_slug text, p_since timestamptz default null, p_by text default 'tool'
) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_since date := coalesce((p_since at time zone 'UTC')::date, (now() at time zone 'UTC')::date - 30);
  v_rows jsonb;
begin
  if p_by is null or p_by not in ('tool', 'key', 'user', 'day') then
    raise exception 'Group usage by tool, key, user or day, not "%".', p_by
      using errcode = 'invalid_parameter_value';
  end if;
  select coalesce(jsonb_agg(
           case when p_by = 'user' and g.group_key <> ''
             then to_jsonb(g) || jsonb_build_object('email', private.user_email(g.group_key))
             else to_jsonb(g) end
           order by g.calls desc, g.group_key), '[]'::jsonb)
  into v_rows
  from (
    select case p_by when 'tool' then u.tool when 'key' then u.key_id when 'user' then u.user_id
                     else u.day::text end
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
  'Usage of one tenant since a day (default: 30 days ago), grouped by tool, key, user or day.';

grant execute on function
  public.lease_usage(uuid, text, uuid, jsonb),
  public.set_member_limits(text, text, jsonb),
  private.user_email(text)
to service_role;
