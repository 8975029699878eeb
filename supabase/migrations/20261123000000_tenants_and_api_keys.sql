-- Tenants, their API keys, and the one lookup the edge function makes per key.
-- Runs the same on hosted Supabase and on the local stack (where scripts/sql/supabase_platform.sql
-- plays the part of Supabase's pre-installed roles and schemas).

create extension if not exists pgcrypto with schema extensions;

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

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  key_hash text not null,
  display_prefix text not null,
  label text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  constraint api_keys_key_hash_key unique (key_hash),
  constraint api_keys_key_hash_format check (key_hash ~ '^[0-9a-f]{64}$'),
  constraint api_keys_display_prefix_short check (length(display_prefix) between 4 and 16)
);

create index api_keys_tenant_id_idx on public.api_keys (tenant_id);

comment on table public.api_keys is
  'API keys. Only a SHA-256 hash of each key is stored; the key itself is shown once, when issued.';
comment on column public.api_keys.id is 'Generated. Identifies the key without revealing it.';
comment on column public.api_keys.created_at is 'When the key was issued.';
comment on column public.api_keys.tenant_id is 'The tenant this key acts for.';
comment on column public.api_keys.key_hash is
  'Hex SHA-256 of the full key. Never the key itself.';
comment on column public.api_keys.display_prefix is
  'First characters of the key, to recognise it in lists and logs.';
comment on column public.api_keys.label is 'What the key is for, e.g. "ci" or "alice laptop".';
comment on column public.api_keys.expires_at is 'Optional: the key stops working at this time.';
comment on column public.api_keys.revoked_at is
  'Set to revoke the key. It stops working within the cache TTL.';
comment on column public.api_keys.last_used_at is 'Roughly when the key was last used.';

-- Keep updated_at honest for admins editing rows in the dashboard.
create or replace function public.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end $$;

create trigger tenants_touch_updated_at
before update on public.tenants
for each row execute function public.touch_updated_at();

-- Nothing here is for browsers: RLS on with no policies, and no grants to the API roles.
alter table public.tenants enable row level security;
alter table public.api_keys enable row level security;
revoke all on table public.tenants, public.api_keys from public, anon, authenticated;
grant all on table public.tenants, public.api_keys to service_role;
revoke all on function public.touch_updated_at() from public, anon, authenticated;

-- The function's single lookup: key hash -> key state + tenant. NULL when the hash is unknown.
create or replace function public.resolve_api_key(p_key_hash text) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'key_id', k.id,
    'key_prefix', k.display_prefix,
    'expires_at', k.expires_at,
    'revoked_at', k.revoked_at,
    'tenant', jsonb_build_object(
      'id', t.id,
      'slug', t.slug,
      'name', t.name,
      'status', t.status,
      'config', t.config,
      'enabled_tools', to_jsonb(t.enabled_tools)
    )
  )
  from public.api_keys k
  join public.tenants t on t.id = k.tenant_id
  where k.key_hash = p_key_hash
$$;

comment on function public.resolve_api_key(text) is
  'Used by the edge function to authenticate a request. service_role only.';

-- Issues a key for a tenant and returns it. The plaintext exists only in this result.
create or replace function public.issue_api_key(
  p_tenant_slug text,
  p_label text default null,
  p_expires_at timestamptz default null
) returns text
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant_id uuid;
  v_key text;
begin
  select id into v_tenant_id from public.tenants where slug = p_tenant_slug;
  if v_tenant_id is null then
    raise exception 'No tenant with slug "%"', p_tenant_slug
      using errcode = 'no_data_found', hint = 'Create the tenant first, or check the slug.';
  end if;
  v_key := 'mcpk_' || rtrim(translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/', '-_'), '=');
  insert into public.api_keys (tenant_id, key_hash, display_prefix, label, expires_at)
  values (
    v_tenant_id,
    encode(sha256(convert_to(v_key, 'UTF8')), 'hex'),
    left(v_key, 12),
    p_label,
    p_expires_at
  );
  return v_key;
end $$;

comment on function public.issue_api_key(text, text, timestamptz) is
  'Creates an API key for the tenant and returns it once. service_role only.';

revoke all on function public.resolve_api_key(text) from public, anon, authenticated;
revoke all on function public.issue_api_key(text, text, timestamptz) from public, anon, authenticated;
grant execute on function public.resolve_api_key(text) to service_role;
grant execute on function public.issue_api_key(text, text, timestamptz) to service_role;
