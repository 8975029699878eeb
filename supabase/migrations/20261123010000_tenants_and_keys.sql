-- Tenants and their API keys. The lookup the edge function makes per key and the admin functions
-- are in the admin migration; the helpers that build and show keys are here, in private.

do $$
begin
  create type public.tenant_status as enum ('active', 'disabled');
exception when duplicate_object then null;
end $$;

comment on type public.tenant_status is
  'active: keys work. disabled: every key of the tenant is refused with TENANT_DISABLED.';

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null,
  name text not null,
  status public.tenant_status not null default 'active',
  config jsonb not null default '{}'::jsonb,
  enabled_tools text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tenants_slug_key unique (slug),
  constraint tenants_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  constraint tenants_name_not_blank check (length(btrim(name)) > 0),
  constraint tenants_config_is_object check (jsonb_typeof(config) = 'object'),
  constraint tenants_enabled_tools_no_nulls check (array_position(enabled_tools, null) is null)
);

comment on table public.tenants is
  'One row per customer of the MCP tools server. Each API key belongs to one tenant.';
comment on column public.tenants.id is 'Generated. Keys and tools refer to the tenant by this id.';
comment on column public.tenants.created_at is 'Set when the tenant is created.';
comment on column public.tenants.updated_at is 'Set automatically on every change.';
comment on column public.tenants.slug is
  'Short stable identifier: lowercase letters, digits and dashes, 2-63 characters (e.g. acme-corp).';
comment on column public.tenants.name is 'Display name of the tenant.';
comment on column public.tenants.status is
  'active or disabled. Disabling refuses every key of this tenant (within the cache TTL).';
comment on column public.tenants.config is
  'Per-tenant settings used by the tools, as a JSON object.';
comment on column public.tenants.enabled_tools is
  'Names of the tools this tenant may list and call, e.g. {tenant_info,echo}. Anything not listed is denied.';

create trigger tenants_touch_updated_at
before update on public.tenants
for each row execute function private.touch_updated_at();

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  key_id text not null,
  key_hash text not null,
  display_prefix text not null,
  label text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  replaces uuid references public.api_keys (id) on delete set null,
  allowed_tools text[],
  constraint api_keys_key_hash_key unique (key_hash),
  constraint api_keys_key_hash_format check (key_hash ~ '^[0-9a-f]{64}$'),
  constraint api_keys_key_id_key unique (key_id),
  constraint api_keys_key_id_format check (key_id ~ '^[0-9a-f]{12}$'),
  constraint api_keys_display_prefix_short check (length(display_prefix) between 4 and 32),
  constraint api_keys_replaces_other check (replaces is distinct from id),
  constraint api_keys_allowed_tools_no_nulls
    check (allowed_tools is null or array_position(allowed_tools, null) is null)
);

create index api_keys_tenant_id_idx on public.api_keys (tenant_id);

comment on table public.api_keys is
  'API keys. Only a SHA-256 hash of each key is stored; the key itself is shown once, when issued.';
comment on column public.api_keys.id is 'Generated. Identifies the key without revealing it.';
comment on column public.api_keys.created_at is 'When the key was issued.';
comment on column public.api_keys.tenant_id is 'The tenant this key acts for.';
comment on column public.api_keys.key_id is
  'Public identifier of the key (the 12 characters after mcpk_). Use it to rotate or revoke.';
comment on column public.api_keys.key_hash is
  'Hex SHA-256 of the full key. Never the key itself.';
comment on column public.api_keys.display_prefix is
  'mcpk_ followed by the key id: how the key appears in lists and logs.';
comment on column public.api_keys.label is 'What the key is for, e.g. "ci" or "alice laptop".';
comment on column public.api_keys.expires_at is 'Optional: the key stops working at this time.';
comment on column public.api_keys.revoked_at is
  'Set to revoke the key. It stops working within the cache TTL.';
comment on column public.api_keys.last_used_at is
  'When the key was last used, to within about a minute plus the function''s cache TTL.';
comment on column public.api_keys.replaces is 'Set on a key issued by rotation: the key it replaces.';
comment on column public.api_keys.allowed_tools is
  'Empty: the key may use every tool its tenant enables. Set, e.g. {crm_read}: only those of them.';

-- Nothing here is for browsers: RLS on with no policies, and no grants to the API roles (see the
-- base migration's default privileges).
alter table public.tenants enable row level security;
alter table public.api_keys enable row level security;

-- Helpers ---------------------------------------------------------------------------------------

-- Builds a new key: mcpk_<key id>_<secret><checksum>, checksum = first 6 hex of SHA-256 of the rest.
create or replace function private.new_api_key(out key text, out key_id text)
language plpgsql volatile set search_path = '' as $$
declare
  v_body text;
begin
  key_id := encode(extensions.gen_random_bytes(6), 'hex');
  v_body := 'mcpk_' || key_id || '_' || encode(extensions.gen_random_bytes(32), 'hex');
  key := v_body || left(encode(sha256(convert_to(v_body, 'UTF8')), 'hex'), 6);
end $$;

comment on function private.new_api_key() is 'Makes a fresh key and its public id.';

-- What admins see of a key: never the hash.
create or replace function private.api_key_view(k public.api_keys) returns jsonb
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

comment on function private.api_key_view(public.api_keys) is 'A key as admins see it (no hash).';

create or replace function private.tenant_view(t public.tenants) returns jsonb
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

comment on function private.tenant_view(public.tenants) is
  'A tenant as admins see it, with its count of active keys.';

create or replace function private.tenant_by_slug(p_slug text) returns public.tenants
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

comment on function private.tenant_by_slug(text) is 'The tenant with this slug, or a clear error.';

create or replace function private.key_by_id(p_key_id text) returns public.api_keys
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

comment on function private.key_by_id(text) is 'The key with this public id, or a clear error.';

-- The admin RPCs run as service_role and call these.
grant execute on function
  private.new_api_key(),
  private.api_key_view(public.api_keys),
  private.tenant_view(public.tenants),
  private.tenant_by_slug(text),
  private.key_by_id(text)
to service_role;
