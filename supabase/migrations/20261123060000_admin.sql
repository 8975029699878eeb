-- The API surface: the edge function's key lookup, and the admin functions that
-- `deno task admin` and the SQL editor call. All run as their caller (service_role, or postgres in
-- the SQL editor) and none returns a key hash; only service_role may call them through the API.

-- A tenant as the function reads it: its settings and the catalog rows of its enabled tools, so
-- the tool set, its fingerprint (name@version) and what is served all come from one answer. The
-- key lookup and the member lookup (members migration) both answer with it.
create or replace function private.tenant_payload(t public.tenants) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', t.id,
    'slug', t.slug,
    'name', t.name,
    'status', t.status,
    'config', t.config,
    'enabled_tools', to_jsonb(t.enabled_tools),
    'tools', coalesce((
      select jsonb_agg(jsonb_build_object(
        'name', c.name,
        'family', c.family,
        'version', c.version,
        'description', c.description,
        'definition', c.definition) order by c.name)
      from public.tool_catalog c
      where c.name = any (t.enabled_tools)
        and (c.tenant_id is null or c.tenant_id = t.id)
    ), '[]'::jsonb)
  )
$$;

comment on function private.tenant_payload(public.tenants) is
  'A tenant with the catalog rows of its enabled tools, as the function reads it.';

grant execute on function private.tenant_payload(public.tenants) to service_role;

-- The function's lookup. It carries the catalog rows of the tenant's enabled tools, so the tool
-- set, its fingerprint (name@version) and what is served all come from one answer. It also keeps
-- last_used_at roughly current: the function asks at most once per cache TTL per isolate, and
-- this writes at most once a minute per key.
create or replace function public.resolve_api_key(p_key_hash text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_result jsonb;
  v_key public.api_keys;
  v_tenant public.tenants;
begin
  select * into v_key from public.api_keys where key_hash = p_key_hash;
  if not found then
    return null;
  end if;
  select * into v_tenant from public.tenants where id = v_key.tenant_id;

  if v_tenant.status = 'active'
     and (v_key.revoked_at is null or v_key.revoked_at > now())
     and (v_key.expires_at is null or v_key.expires_at > now())
     and (v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute') then
    update public.api_keys set last_used_at = now() where id = v_key.id;
  end if;

  return jsonb_build_object(
    'key_id', v_key.key_id,
    'key_prefix', v_key.display_prefix,
    'expires_at', v_key.expires_at,
    'revoked_at', v_key.revoked_at,
    'allowed_tools', to_jsonb(v_key.allowed_tools),
    'tenant', private.tenant_payload(v_tenant)
  );
end $$;

-- ---------------------------------------------------------------------------------------------
-- Admin functions
-- ---------------------------------------------------------------------------------------------

create or replace function public.create_tenant(
  p_slug text,
  p_name text,
  p_enabled_tools text[] default '{}',
  p_config jsonb default '{}'::jsonb
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants;
begin
  insert into public.tenants (slug, name, enabled_tools, config)
  values (p_slug, p_name, coalesce(p_enabled_tools, '{}'), coalesce(p_config, '{}'::jsonb))
  returning * into v_tenant;
  return private.tenant_view(v_tenant);
exception when unique_violation then
  raise exception 'A tenant with slug "%" already exists.', p_slug
    using errcode = 'unique_violation', hint = 'Pick another slug, or change the existing tenant.';
end $$;

create or replace function public.list_tenants() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(private.tenant_view(t) order by t.slug), '[]'::jsonb)
  from public.tenants t
$$;

create or replace function public.get_tenant(p_slug text) returns jsonb
language sql stable set search_path = '' as $$
  select private.tenant_view(private.tenant_by_slug(p_slug))
$$;

create or replace function public.set_tenant_status(p_slug text, p_status public.tenant_status)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_slug);
begin
  update public.tenants set status = p_status where id = v_tenant.id returning * into v_tenant;
  return private.tenant_view(v_tenant);
end $$;

create or replace function public.set_tenant_config(p_slug text, p_config jsonb) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_slug);
begin
  update public.tenants set config = coalesce(p_config, '{}'::jsonb)
  where id = v_tenant.id returning * into v_tenant;
  return private.tenant_view(v_tenant);
end $$;

create or replace function public.set_enabled_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select distinct n from unnest(coalesce(p_tools, '{}')) n order by n)
  where id = v_tenant.id returning * into v_tenant;
  return private.tenant_view(v_tenant);
end $$;

-- Adding and removing happen in one statement each, so two admins can't undo each other's edits.
create or replace function public.enable_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select distinct n from unnest(enabled_tools || p_tools) n order by n)
  where id = v_tenant.id returning * into v_tenant;
  return private.tenant_view(v_tenant);
end $$;

create or replace function public.disable_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select n from unnest(enabled_tools) n
                            where n <> all (coalesce(p_tools, '{}')) order by n)
  where id = v_tenant.id returning * into v_tenant;
  return private.tenant_view(v_tenant);
end $$;

create or replace function public.list_tools() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
    'name', c.name,
    'family', c.family,
    'description', c.description,
    'version', c.version,
    'tenant', (select t.slug from public.tenants t where t.id = c.tenant_id),
    'data_defined', c.definition is not null,
    'enabled_for', (select count(*) from public.tenants t where c.name = any (t.enabled_tools))
  ) order by c.family, c.name), '[]'::jsonb)
  from public.tool_catalog c
$$;

-- The key comes back once, with what admins need to track it.
create or replace function public.issue_api_key(
  p_tenant_slug text,
  p_label text default null,
  p_expires_at timestamptz default null
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_new record;
  v_key public.api_keys;
begin
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'The expiry % is in the past.', p_expires_at
      using errcode = 'check_violation', hint = 'Give a future time, or none for a key that does not expire.';
  end if;
  v_new := private.new_api_key();
  insert into public.api_keys (tenant_id, key_id, key_hash, display_prefix, label, expires_at)
  values (v_tenant.id, v_new.key_id, encode(sha256(convert_to(v_new.key, 'UTF8')), 'hex'),
          'mcpk_' || v_new.key_id, p_label, p_expires_at)
  returning * into v_key;
  return jsonb_build_object('key', v_new.key) || private.api_key_view(v_key);
end $$;

-- A new key for the same tenant and label; the old one keeps working until p_old_key_expires_at
-- (default: 24 hours), so clients can switch over without downtime.
create or replace function public.rotate_api_key(
  p_key_id text,
  p_old_key_expires_at timestamptz default now() + interval '24 hours',
  p_expires_at timestamptz default null
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_old public.api_keys := private.key_by_id(p_key_id);
  v_issued jsonb;
  v_new_id uuid;
begin
  if v_old.revoked_at is not null and v_old.revoked_at <= now() then
    raise exception 'Key % is revoked; issue a new key instead of rotating it.', v_old.key_id
      using errcode = 'check_violation';
  end if;
  if v_old.expires_at is not null and v_old.expires_at <= now() then
    raise exception 'Key % has expired; issue a new key instead of rotating it.', v_old.key_id
      using errcode = 'check_violation';
  end if;
  if p_old_key_expires_at is null or p_old_key_expires_at < now() then
    raise exception 'The old key''s end must be now or later.'
      using errcode = 'check_violation', hint = 'Use now() to end the old key immediately.';
  end if;
  v_issued := public.issue_api_key(
    (select slug from public.tenants where id = v_old.tenant_id), v_old.label, p_expires_at);
  select id into v_new_id from public.api_keys where key_id = v_issued ->> 'key_id';
  -- The replacement may use what the old key could, no more.
  update public.api_keys set replaces = v_old.id, allowed_tools = v_old.allowed_tools
  where id = v_new_id;
  update public.api_keys
  set expires_at = least(coalesce(expires_at, 'infinity'), p_old_key_expires_at)
  where id = v_old.id
  returning * into v_old;
  return v_issued || jsonb_build_object(
    'replaces', v_old.key_id,
    'old_key', private.api_key_view(v_old));
end $$;

create or replace function public.revoke_api_key(p_key_id text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_key public.api_keys := private.key_by_id(p_key_id);
begin
  update public.api_keys set revoked_at = coalesce(revoked_at, now())
  where id = v_key.id returning * into v_key;
  return private.api_key_view(v_key);
end $$;

create or replace function public.list_api_keys(p_tenant_slug text default null) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_tenant_id uuid;
begin
  if p_tenant_slug is not null then
    v_tenant_id := (private.tenant_by_slug(p_tenant_slug)).id;
  end if;
  return coalesce((
    select jsonb_agg(private.api_key_view(k) order by k.created_at, k.key_id)
    from public.api_keys k
    where v_tenant_id is null or k.tenant_id = v_tenant_id
  ), '[]'::jsonb);
end $$;

comment on function public.create_tenant(text, text, text[], jsonb) is
  'Admin: creates a tenant. service_role only.';
comment on function public.list_tenants() is 'Admin: every tenant, with its count of active keys.';
comment on function public.get_tenant(text) is 'Admin: one tenant by slug.';
comment on function public.set_tenant_status(text, public.tenant_status) is
  'Admin: active or disabled. Takes effect within the cache TTL.';
comment on function public.set_tenant_config(text, jsonb) is
  'Admin: replaces the tenant''s config (checked against its tool families).';
comment on function public.set_enabled_tools(text, text[]) is
  'Admin: replaces the tenant''s enabled tools (checked against the tool catalog).';
comment on function public.enable_tools(text, text[]) is 'Admin: adds tools to a tenant.';
comment on function public.disable_tools(text, text[]) is 'Admin: removes tools from a tenant.';
comment on function public.list_tools() is 'Admin: the tool catalog.';
comment on function public.issue_api_key(text, text, timestamptz) is
  'Admin: issues a key and returns it once, under "key". service_role only.';
comment on function public.rotate_api_key(text, timestamptz, timestamptz) is
  'Admin: issues a replacement key; the old key works until p_old_key_expires_at (default 24 h).';
comment on function public.revoke_api_key(text) is 'Admin: revokes a key (within the cache TTL).';
comment on function public.list_api_keys(text) is 'Admin: keys of one tenant, or of all. No hashes.';

comment on function public.resolve_api_key(text) is
  'Used by the edge function to authenticate a request. service_role only.';

grant execute on function
  public.resolve_api_key(text),
  public.create_tenant(text, text, text[], jsonb),
  public.list_tenants(),
  public.get_tenant(text),
  public.set_tenant_status(text, public.tenant_status),
  public.set_tenant_config(text, jsonb),
  public.set_enabled_tools(text, text[]),
  public.enable_tools(text, text[]),
  public.disable_tools(text, text[]),
  public.list_tools(),
  public.issue_api_key(text, text, timestamptz),
  public.rotate_api_key(text, timestamptz, timestamptz),
  public.revoke_api_key(text),
  public.list_api_keys(text)
to service_role;
