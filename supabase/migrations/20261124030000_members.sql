-- People as callers: Supabase Auth users are members of tenants with a role, an API key can be
-- narrowed to some of its tenant's tools, a Custom Access Token Hook names the user's active
-- tenant in their access token, and (opt-in) signing up creates the user's own tenant.
-- auth.users exists on every Supabase project (locally: scripts/sql/supabase_platform.sql).

do $$
begin
  create type public.member_role as enum ('owner', 'admin', 'member');
exception when duplicate_object then null;
end $$;

comment on type public.member_role is
  'owner and admin: every tool the tenant enables. member: only its read-only tools.';

create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.member_role not null default 'member',
  created_at timestamptz not null default now(),
  constraint tenant_members_pkey primary key (tenant_id, user_id)
);

create index tenant_members_user_id_idx on public.tenant_members (user_id);

comment on table public.tenant_members is
  'Which Supabase Auth users may use which tenant, and with what role. Removing a row takes '
  'effect within the function''s cache TTL.';
comment on column public.tenant_members.tenant_id is 'The tenant the user may use.';
comment on column public.tenant_members.user_id is 'The user (Authentication → Users).';
comment on column public.tenant_members.role is
  'owner or admin: every tool the tenant enables. member: only the read-only ones.';
comment on column public.tenant_members.created_at is 'When the user joined the tenant.';

alter table public.tenant_members enable row level security;

-- Supabase Auth runs the access token hook as supabase_auth_admin: it reads memberships only.
do $$
begin
  if exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    grant usage on schema public to supabase_auth_admin;
    grant select on public.tenants, public.tenant_members to supabase_auth_admin;
    create policy tenant_members_auth_hook_read on public.tenant_members
      as permissive for select to supabase_auth_admin using (true);
    create policy tenants_auth_hook_read on public.tenants
      as permissive for select to supabase_auth_admin using (true);
  end if;
end $$;

-- Signup creates a tenant (opt-in) -----------------------------------------------------------

create table public.signup_settings (
  id boolean primary key default true,
  creates_tenant boolean not null default false,
  default_tools text[] not null default '{tenant_info,echo}',
  updated_at timestamptz not null default now(),
  constraint signup_settings_single_row check (id),
  constraint signup_settings_default_tools_no_nulls
    check (array_position(default_tools, null) is null)
);

comment on table public.signup_settings is
  'One row: what happens when a person signs up with Supabase Auth.';
comment on column public.signup_settings.id is 'Always true: there is only one row.';
comment on column public.signup_settings.creates_tenant is
  'On: every new user gets a personal tenant and becomes its owner. Off (default): new users '
  'belong to no tenant until an admin adds them.';
comment on column public.signup_settings.default_tools is
  'Tools enabled for a personal tenant created at signup, e.g. {tenant_info,echo,crm_read,crm_write}.';
comment on column public.signup_settings.updated_at is 'Set automatically on every change.';

insert into public.signup_settings (id) values (true) on conflict do nothing;
alter table public.signup_settings enable row level security;

create trigger signup_settings_touch_updated_at
before update on public.signup_settings
for each row execute function private.touch_updated_at();

-- A bad default tool set would make every signup fail: refuse it when it is saved instead.
create or replace function private.signup_settings_check() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_problem text := private.tenant_row_problem(gen_random_uuid(), new.default_tools, '{}'::jsonb);
begin
  if v_problem is not null then
    raise exception 'Signup settings: the personal tenant''s %', v_problem
      using errcode = 'check_violation',
            hint = 'default_tools may name tools any tenant may enable that need no tenant config.';
  end if;
  return new;
end $$;

comment on function private.signup_settings_check() is
  'Trigger: refuses default_tools a new personal tenant could not be created with.';

create trigger signup_settings_check
before insert or update of default_tools on public.signup_settings
for each row execute function private.signup_settings_check();

-- Runs as its owner: a signup happens as supabase_auth_admin, which may not write tenants.
create or replace function private.create_personal_tenant() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_settings public.signup_settings;
  v_base text;
  v_tenant_id uuid;
begin
  select * into v_settings from public.signup_settings where id;
  if not found or not v_settings.creates_tenant then
    return new;
  end if;
  v_base := left(trim(both '-' from regexp_replace(
    lower(coalesce(split_part(new.email, '@', 1), 'user')), '[^a-z0-9]+', '-', 'g')), 40);
  if length(v_base) < 2 then v_base := 'user'; end if;
  insert into public.tenants (slug, name, enabled_tools)
  values (v_base || '-' || left(replace(new.id::text, '-', ''), 8),
          coalesce(nullif(new.raw_user_meta_data ->> 'full_name', ''), new.email, 'Personal')
            || '''s workspace',
          v_settings.default_tools)
  returning id into v_tenant_id;
  insert into public.tenant_members (tenant_id, user_id, role) values (v_tenant_id, new.id, 'owner');
  return new;
end $$;

comment on function private.create_personal_tenant() is
  'Trigger on auth.users: a personal tenant for each new user, when signup_settings.creates_tenant.';

create trigger create_personal_tenant
after insert on auth.users
for each row execute function private.create_personal_tenant();

-- The tenant a user acts in -------------------------------------------------------------------

-- The function's lookup for a user. p_tenant is a slug (from the URL) or a tenant id (from the
-- token's tenant_id claim); null picks the user's only tenant. Without a membership in the chosen
-- tenant the answer lists the user's tenants instead, so the function can say what to do.
create or replace function public.resolve_member(p_user_id uuid, p_tenant text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_member public.tenant_members;
  v_tenant public.tenants;
  v_count integer;
begin
  if p_tenant is null then
    select count(*) into v_count from public.tenant_members where user_id = p_user_id;
    if v_count = 1 then
      select * into v_member from public.tenant_members where user_id = p_user_id;
    end if;
  else
    select m.* into v_member
    from public.tenant_members m join public.tenants t on t.id = m.tenant_id
    where m.user_id = p_user_id and (t.slug = p_tenant or t.id::text = p_tenant);
  end if;
  if v_member.tenant_id is null then
    return jsonb_build_object('choices', coalesce((
      select jsonb_agg(t.slug order by t.slug)
      from public.tenant_members m join public.tenants t on t.id = m.tenant_id
      where m.user_id = p_user_id), '[]'::jsonb));
  end if;
  select * into v_tenant from public.tenants where id = v_member.tenant_id;
  return jsonb_build_object('role', v_member.role, 'tenant', private.tenant_payload(v_tenant));
end $$;

comment on function public.resolve_member(uuid, text) is
  'Used by the edge function to authenticate a user in a tenant. service_role only.';

-- Custom Access Token Hook: enable it under Authentication → Hooks (or config.toml's
-- [auth.hook.custom_access_token]). It adds tenant_id and tenant_role for the user's active
-- tenant: app_metadata.active_tenant (a slug an admin or the app sets) when the user is a member
-- there, else the tenant the user joined first. Other claims pass through unchanged.
create or replace function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_claims jsonb := coalesce(event -> 'claims', '{}'::jsonb);
  v_user_id uuid := (event ->> 'user_id')::uuid;
  v_wanted text := v_claims -> 'app_metadata' ->> 'active_tenant';
  v_tenant_id uuid;
  v_role public.member_role;
begin
  select m.tenant_id, m.role into v_tenant_id, v_role
  from public.tenant_members m join public.tenants t on t.id = m.tenant_id
  where m.user_id = v_user_id
  order by (t.slug = v_wanted) desc nulls last, m.created_at, t.slug
  limit 1;
  if v_tenant_id is null then
    v_claims := v_claims - 'tenant_id' - 'tenant_role';
  else
    v_claims := v_claims || jsonb_build_object('tenant_id', v_tenant_id, 'tenant_role', v_role);
  end if;
  return jsonb_build_object('claims', v_claims);
end $$;

comment on function public.custom_access_token_hook(jsonb) is
  'Supabase Auth hook: puts the user''s active tenant (tenant_id, tenant_role) in access tokens.';

-- Admin functions -----------------------------------------------------------------------------

-- Reads auth.users, which only Supabase Auth's own roles and postgres may; hence definer.
create or replace function private.user_by_ref(p_user text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  if p_user ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select id into v_id from auth.users where id = p_user::uuid;
  else
    select id into v_id from auth.users where lower(email) = lower(p_user);
  end if;
  if v_id is null then
    raise exception 'No user "%".', p_user
      using errcode = 'no_data_found',
            hint = 'Give the user''s email or id (Authentication → Users); create the user first.';
  end if;
  return v_id;
end $$;

comment on function private.user_by_ref(text) is 'A user id from an email or id, or a clear error.';

create or replace function private.member_view(m public.tenant_members) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'tenant', (select t.slug from public.tenants t where t.id = m.tenant_id),
    'user_id', m.user_id,
    'email', (select u.email from auth.users u where u.id = m.user_id),
    'role', m.role,
    'created_at', m.created_at)
$$;

comment on function private.member_view(public.tenant_members) is
  'A membership as admins see it, with the user''s email.';

create or replace function public.add_member(
  p_tenant_slug text,
  p_user text,
  p_role public.member_role default 'member'
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_member public.tenant_members;
begin
  insert into public.tenant_members (tenant_id, user_id, role)
  values (v_tenant.id, private.user_by_ref(p_user), coalesce(p_role, 'member'))
  on conflict (tenant_id, user_id) do update set role = excluded.role
  returning * into v_member;
  return private.member_view(v_member);
end $$;

create or replace function public.remove_member(p_tenant_slug text, p_user text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_member public.tenant_members;
begin
  delete from public.tenant_members
  where tenant_id = v_tenant.id and user_id = private.user_by_ref(p_user)
  returning * into v_member;
  if v_member.tenant_id is null then
    raise exception '"%" is not a member of tenant "%".', p_user, p_tenant_slug
      using errcode = 'no_data_found', hint = 'List the tenant''s members to see who belongs.';
  end if;
  return private.member_view(v_member);
end $$;

create or replace function public.list_members(p_tenant_slug text default null) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  v_tenant_id uuid;
begin
  if p_tenant_slug is not null then
    v_tenant_id := (private.tenant_by_slug(p_tenant_slug)).id;
  end if;
  return coalesce((
    select jsonb_agg(private.member_view(m) order by m.tenant_id, m.created_at, m.user_id)
    from public.tenant_members m
    where v_tenant_id is null or m.tenant_id = v_tenant_id
  ), '[]'::jsonb);
end $$;

-- p_tools null: the key may use every tool of its tenant again.
create or replace function public.set_key_tools(p_key_id text, p_tools text[]) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_key public.api_keys := private.key_by_id(p_key_id);
begin
  update public.api_keys
  set allowed_tools = case when p_tools is null then null
                           else array(select distinct n from unnest(p_tools) n order by n) end
  where id = v_key.id returning * into v_key;
  return private.api_key_view(v_key) || jsonb_build_object('allowed_tools', v_key.allowed_tools);
end $$;

comment on function public.add_member(text, text, public.member_role) is
  'Admin: adds a user (email or id) to a tenant with a role, or changes their role.';
comment on function public.remove_member(text, text) is
  'Admin: removes a user from a tenant (within the cache TTL).';
comment on function public.list_members(text) is 'Admin: members of one tenant, or of all.';
comment on function public.set_key_tools(text, text[]) is
  'Admin: narrows a key to some of its tenant''s tools; null lifts the narrowing.';

grant execute on function
  private.user_by_ref(text),
  private.member_view(public.tenant_members)
to service_role;

grant execute on function
  public.resolve_member(uuid, text),
  public.add_member(text, text, public.member_role),
  public.remove_member(text, text),
  public.list_members(text),
  public.set_key_tools(text, text[]),
  public.custom_access_token_hook(jsonb)
to service_role;

do $$
begin
  if exists (select from pg_roles where rolname = 'supabase_auth_admin') then
    grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
  end if;
end $$;
