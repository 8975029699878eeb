-- Key lifecycle (recognisable keys with a public id and a checksum, rotation, last use) and the
-- admin surface: SQL functions that `deno task admin` and the SQL editor call. All of them are
-- security definer, executable by service_role only, and none returns a key hash.

-- Keys issued before this format have no public id; they stop working (the function no longer
-- accepts their shape), so record that honestly.
alter table public.api_keys add column key_id text;
-- Rotation links the new key to the one it replaces, for the audit trail.
alter table public.api_keys
  add column replaces uuid references public.api_keys (id) on delete set null;
update public.api_keys
set key_id = encode(extensions.gen_random_bytes(6), 'hex'),
    revoked_at = coalesce(revoked_at, now())
where key_id is null;
alter table public.api_keys
  alter column key_id set not null,
  add constraint api_keys_key_id_key unique (key_id),
  add constraint api_keys_key_id_format check (key_id ~ '^[0-9a-f]{12}$'),
  drop constraint api_keys_display_prefix_short,
  add constraint api_keys_display_prefix_short check (length(display_prefix) between 4 and 32),
  add constraint api_keys_replaces_other check (replaces is distinct from id);

comment on column public.api_keys.key_id is
  'Public identifier of the key (the 12 characters after mcpk_). Use it to rotate or revoke.';
comment on column public.api_keys.display_prefix is
  'mcpk_ followed by the key id: how the key appears in lists and logs.';
comment on column public.api_keys.replaces is 'Set on a key issued by rotation: the key it replaces.';
comment on column public.api_keys.last_used_at is
  'When the key was last used, to within about a minute plus the function''s cache TTL.';

-- Builds a new key: mcpk_<key id>_<secret><checksum>, checksum = first 6 hex of SHA-256 of the rest.
create or replace function public.new_api_key(out key text, out key_id text)
language plpgsql volatile set search_path = '' as $$
declare
  v_body text;
begin
  key_id := encode(extensions.gen_random_bytes(6), 'hex');
  v_body := 'mcpk_' || key_id || '_' || encode(extensions.gen_random_bytes(32), 'hex');
  key := v_body || left(encode(sha256(convert_to(v_body, 'UTF8')), 'hex'), 6);
end $$;

comment on function public.new_api_key() is 'Internal: makes a fresh key and its public id.';

-- What admins see of a key: never the hash.
create or replace function public.api_key_view(k public.api_keys) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'key_id', k.key_id,
    'display_prefix', k.display_prefix,
    'tenant', (select t.slug from public.tenants t where t.id = k.tenant_id),
    'label', k.label,
    'state', case
      when k.revoked_at is not null and k.revoked_at <= now() then 'revoked'
      when k.expires_at is not null and k.expires_at <= now() then 'expired'
      else 'active' end,
    'created_at', k.created_at,
    'expires_at', k.expires_at,
    'revoked_at', k.revoked_at,
    'last_used_at', k.last_used_at,
    'replaces', (select o.key_id from public.api_keys o where o.id = k.replaces)
  )
$$;

create or replace function public.tenant_view(t public.tenants) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', t.id,
    'slug', t.slug,
    'name', t.name,
    'status', t.status,
    'config', t.config,
    'enabled_tools', to_jsonb(t.enabled_tools),
    'active_keys', (select count(*) from public.api_keys k
                    where k.tenant_id = t.id
                      and (k.revoked_at is null or k.revoked_at > now())
                      and (k.expires_at is null or k.expires_at > now())),
    'created_at', t.created_at,
    'updated_at', t.updated_at
  )
$$;

create or replace function public.tenant_by_slug(p_slug text) returns public.tenants
language plpgsql stable set search_path = '' as $$
declare
  v_tenant public.tenants;
begin
  select * into v_tenant from public.tenants where slug = p_slug;
  if not found then
    raise exception 'No tenant with slug "%".', p_slug
      using errcode = 'no_data_found',
            hint = 'List tenants to see their slugs, or create the tenant first.';
  end if;
  return v_tenant;
end $$;

create or replace function public.key_by_id(p_key_id text) returns public.api_keys
language plpgsql stable set search_path = '' as $$
declare
  v_key public.api_keys;
begin
  select * into v_key from public.api_keys where key_id = lower(p_key_id);
  if not found then
    raise exception 'No API key with id "%".', p_key_id
      using errcode = 'no_data_found',
            hint = 'The key id is the 12 characters after mcpk_; list the tenant''s keys to see them.';
  end if;
  return v_key;
end $$;

-- The function's lookup. It carries the catalog rows of the tenant's enabled tools, so the tool
-- set, its fingerprint (name@version) and what is served all come from one answer. It also keeps
-- last_used_at roughly current: the function asks at most once per cache TTL per isolate, and
-- this writes at most once a minute per key.
create or replace function public.resolve_api_key(p_key_hash text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
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
    'tenant', jsonb_build_object(
      'id', v_tenant.id,
      'slug', v_tenant.slug,
      'name', v_tenant.name,
      'status', v_tenant.status,
      'config', v_tenant.config,
      'enabled_tools', to_jsonb(v_tenant.enabled_tools),
      'tools', coalesce((
        select jsonb_agg(jsonb_build_object(
          'name', c.name,
          'family', c.family,
          'version', c.version,
          'description', c.description,
          'definition', c.definition) order by c.name)
        from public.tool_catalog c
        where c.name = any (v_tenant.enabled_tools)
          and (c.tenant_id is null or c.tenant_id = v_tenant.id)
      ), '[]'::jsonb)
    )
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
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants;
begin
  insert into public.tenants (slug, name, enabled_tools, config)
  values (p_slug, p_name, coalesce(p_enabled_tools, '{}'), coalesce(p_config, '{}'::jsonb))
  returning * into v_tenant;
  return public.tenant_view(v_tenant);
exception when unique_violation then
  raise exception 'A tenant with slug "%" already exists.', p_slug
    using errcode = 'unique_violation', hint = 'Pick another slug, or change the existing tenant.';
end $$;

create or replace function public.list_tenants() returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(jsonb_agg(public.tenant_view(t) order by t.slug), '[]'::jsonb)
  from public.tenants t
$$;

create or replace function public.get_tenant(p_slug text) returns jsonb
language sql stable security definer set search_path = '' as $$
  select public.tenant_view(public.tenant_by_slug(p_slug))
$$;

create or replace function public.set_tenant_status(p_slug text, p_status public.tenant_status)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_slug);
begin
  update public.tenants set status = p_status where id = v_tenant.id returning * into v_tenant;
  return public.tenant_view(v_tenant);
end $$;

create or replace function public.set_tenant_config(p_slug text, p_config jsonb) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_slug);
begin
  update public.tenants set config = coalesce(p_config, '{}'::jsonb)
  where id = v_tenant.id returning * into v_tenant;
  return public.tenant_view(v_tenant);
end $$;

create or replace function public.set_enabled_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select distinct n from unnest(coalesce(p_tools, '{}')) n order by n)
  where id = v_tenant.id returning * into v_tenant;
  return public.tenant_view(v_tenant);
end $$;

-- Adding and removing happen in one statement each, so two admins can't undo each other's edits.
create or replace function public.enable_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select distinct n from unnest(enabled_tools || p_tools) n order by n)
  where id = v_tenant.id returning * into v_tenant;
  return public.tenant_view(v_tenant);
end $$;

create or replace function public.disable_tools(p_slug text, p_tools text[]) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_slug);
begin
  update public.tenants
  set enabled_tools = array(select n from unnest(enabled_tools) n
                            where n <> all (coalesce(p_tools, '{}')) order by n)
  where id = v_tenant.id returning * into v_tenant;
  return public.tenant_view(v_tenant);
end $$;

create or replace function public.list_tools() returns jsonb
language sql stable security definer set search_path = '' as $$
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

-- Replaces the text-returning version: the key comes back once, with what admins need to track it.
drop function if exists public.issue_api_key(text, text, timestamptz);

create or replace function public.issue_api_key(
  p_tenant_slug text,
  p_label text default null,
  p_expires_at timestamptz default null
) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant public.tenants := public.tenant_by_slug(p_tenant_slug);
  v_new record;
  v_key public.api_keys;
begin
  if p_expires_at is not null and p_expires_at <= now() then
    raise exception 'The expiry % is in the past.', p_expires_at
      using errcode = 'check_violation', hint = 'Give a future time, or none for a key that does not expire.';
  end if;
  v_new := public.new_api_key();
  insert into public.api_keys (tenant_id, key_id, key_hash, display_prefix, label, expires_at)
  values (v_tenant.id, v_new.key_id, encode(sha256(convert_to(v_new.key, 'UTF8')), 'hex'),
          'mcpk_' || v_new.key_id, p_label, p_expires_at)
  returning * into v_key;
  return jsonb_build_object('key', v_new.key) || public.api_key_view(v_key);
end $$;

-- A new key for the same tenant and label; the old one keeps working until p_old_key_expires_at
-- (default: 24 hours), so clients can switch over without downtime.
create or replace function public.rotate_api_key(
  p_key_id text,
  p_old_key_expires_at timestamptz default now() + interval '24 hours',
  p_expires_at timestamptz default null
) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_old public.api_keys := public.key_by_id(p_key_id);
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
  update public.api_keys set replaces = v_old.id where id = v_new_id;
  update public.api_keys
  set expires_at = least(coalesce(expires_at, 'infinity'), p_old_key_expires_at)
  where id = v_old.id
  returning * into v_old;
  return v_issued || jsonb_build_object(
    'replaces', v_old.key_id,
    'old_key', public.api_key_view(v_old));
end $$;

create or replace function public.revoke_api_key(p_key_id text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_key public.api_keys := public.key_by_id(p_key_id);
begin
  update public.api_keys set revoked_at = coalesce(revoked_at, now())
  where id = v_key.id returning * into v_key;
  return public.api_key_view(v_key);
end $$;

create or replace function public.list_api_keys(p_tenant_slug text default null) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tenant_id uuid;
begin
  if p_tenant_slug is not null then
    v_tenant_id := (public.tenant_by_slug(p_tenant_slug)).id;
  end if;
  return coalesce((
    select jsonb_agg(public.api_key_view(k) order by k.created_at, k.key_id)
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

-- Internal helpers: no API role may call them.
revoke all on function public.new_api_key() from public, anon, authenticated, service_role;
revoke all on function public.api_key_view(public.api_keys) from public, anon, authenticated;
revoke all on function public.tenant_view(public.tenants) from public, anon, authenticated;
revoke all on function public.tenant_by_slug(text) from public, anon, authenticated;
revoke all on function public.key_by_id(text) from public, anon, authenticated;

do $$
declare
  v_fn text;
begin
  foreach v_fn in array array[
    'public.create_tenant(text, text, text[], jsonb)',
    'public.list_tenants()',
    'public.get_tenant(text)',
    'public.set_tenant_status(text, public.tenant_status)',
    'public.set_tenant_config(text, jsonb)',
    'public.set_enabled_tools(text, text[])',
    'public.enable_tools(text, text[])',
    'public.disable_tools(text, text[])',
    'public.list_tools()',
    'public.issue_api_key(text, text, timestamptz)',
    'public.rotate_api_key(text, timestamptz, timestamptz)',
    'public.revoke_api_key(text)',
    'public.list_api_keys(text)'
  ] loop
    execute format('revoke all on function %s from public, anon, authenticated', v_fn);
    execute format('grant execute on function %s to service_role', v_fn);
  end loop;
end $$;
