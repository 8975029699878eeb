-- Tenants' upstream credentials (used by the HTTP API tools), never stored in plaintext.
--
-- On Supabase the value lives in Vault (vault.create_secret; read through
-- vault.decrypted_secrets) and only its id is kept here. Where Vault is not installed (plain
-- PostgreSQL, the local stack), the value is encrypted with pgcrypto under TENANT_SECRETS_KEY:
-- a key the database never stores. The function sends it with each lookup; admins pass it when
-- setting a secret. A dump of this database alone reveals no secret.
--
-- The secret-name rule (private.secret_name_pattern) is generated from the function's code.

create table private.tenant_secrets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null,
  vault_secret_id uuid,
  ciphertext bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, name),
  constraint tenant_secrets_name_format check (name ~ private.secret_name_pattern()),
  constraint tenant_secrets_one_store check (num_nonnulls(vault_secret_id, ciphertext) = 1)
);

comment on table private.tenant_secrets is
  'Upstream credentials of tenants, never in plaintext. Set them with public.set_tenant_secret(); refer to them by name in tenants.config.';
comment on column private.tenant_secrets.tenant_id is 'The tenant that owns the secret.';
comment on column private.tenant_secrets.name is
  'The name tenants.config uses to refer to the secret, e.g. api_token.';
comment on column private.tenant_secrets.vault_secret_id is
  'On Supabase: the Vault secret holding the value.';
comment on column private.tenant_secrets.ciphertext is
  'Without Vault: the value encrypted with pgcrypto under the deployment''s TENANT_SECRETS_KEY.';
comment on column private.tenant_secrets.created_at is 'When the secret was first set.';
comment on column private.tenant_secrets.updated_at is 'When the secret was last set.';

alter table private.tenant_secrets enable row level security;

-- Vault 0.2.8 and 0.3.x: create_secret(new_secret, new_name, new_description, new_key_id uuid).
create or replace function private.vault_available() returns boolean
language sql stable set search_path = '' as $$
  select to_regprocedure('vault.create_secret(text, text, text, uuid)') is not null
     and to_regclass('vault.decrypted_secrets') is not null
$$;

-- A tenant's secrets leave Vault with it.
create or replace function private.tenant_secrets_drop_vault_secret() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if old.vault_secret_id is not null and private.vault_available() then
    execute 'delete from vault.secrets where id = $1' using old.vault_secret_id;
  end if;
  return old;
end $$;

create trigger tenant_secrets_drop_vault_secret
after delete on private.tenant_secrets
for each row execute function private.tenant_secrets_drop_vault_secret();

-- Sets (creates or replaces) a tenant's secret. p_key: only where Vault is absent.
create or replace function public.set_tenant_secret(
  p_tenant_slug text,
  p_name text,
  p_value text,
  p_key text default null
) returns void
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_tenant_id uuid;
  v_existing private.tenant_secrets;
  v_vault_id uuid;
  v_probe bytea;
begin
  select id into v_tenant_id from public.tenants where slug = p_tenant_slug;
  if v_tenant_id is null then
    raise exception 'No tenant with slug "%"', p_tenant_slug
      using errcode = 'no_data_found', hint = 'Create the tenant first, or check the slug.';
  end if;
  if p_name is null or p_name !~ private.secret_name_pattern() then
    raise exception 'Secret name "%" is not valid', p_name
      using errcode = 'invalid_parameter_value',
            hint = 'Use lowercase letters, digits and underscores, starting with a letter (e.g. api_token).';
  end if;
  if p_value is null or p_value = '' then
    raise exception 'The value of secret "%" is empty', p_name using errcode = 'invalid_parameter_value';
  end if;

  select * into v_existing from private.tenant_secrets
  where tenant_id = v_tenant_id and name = p_name for update;

  if private.vault_available() then
    if v_existing.vault_secret_id is not null then
      execute 'select vault.update_secret($1, $2)' using v_existing.vault_secret_id, p_value;
      v_vault_id := v_existing.vault_secret_id;
    else
      execute 'select vault.create_secret($1, $2, $3)' into v_vault_id
        using p_value, 'mcp-tools-server/' || v_tenant_id || '/' || p_name,
              format('Upstream credential "%s" of tenant %s', p_name, p_tenant_slug);
    end if;
    insert into private.tenant_secrets (tenant_id, name, vault_secret_id, ciphertext)
    values (v_tenant_id, p_name, v_vault_id, null)
    on conflict (tenant_id, name) do update
      set vault_secret_id = excluded.vault_secret_id, ciphertext = null, updated_at = now();
    return;
  end if;

  if p_key is null or length(p_key) < 32 then
    raise exception 'Vault is not installed in this database, so tenant secrets are encrypted with the deployment''s TENANT_SECRETS_KEY'
      using errcode = 'invalid_parameter_value',
            hint = 'Pass that key (at least 32 characters) as the fourth argument: select public.set_tenant_secret(''<tenant>'', ''<name>'', ''<value>'', ''<TENANT_SECRETS_KEY>'').';
  end if;
  -- Every local secret must stay readable with the one key the function has.
  select ciphertext into v_probe from private.tenant_secrets where ciphertext is not null limit 1;
  if v_probe is not null then
    begin
      perform extensions.pgp_sym_decrypt(v_probe, p_key);
    exception when others then
      raise exception 'The key given is not the TENANT_SECRETS_KEY the existing secrets were encrypted with'
        using errcode = 'invalid_parameter_value',
              hint = 'Use the same key as the function''s TENANT_SECRETS_KEY.';
    end;
  end if;
  insert into private.tenant_secrets (tenant_id, name, vault_secret_id, ciphertext)
  values (v_tenant_id, p_name, null, extensions.pgp_sym_encrypt(p_value, p_key, 'cipher-algo=aes256'))
  on conflict (tenant_id, name) do update
    set vault_secret_id = null, ciphertext = excluded.ciphertext, updated_at = now();
  if v_existing.vault_secret_id is not null then
    execute 'delete from vault.secrets where id = $1' using v_existing.vault_secret_id;
  end if;
end $$;

comment on function public.set_tenant_secret(text, text, text, text) is
  'Stores an upstream credential for a tenant (Vault on Supabase; else encrypted under TENANT_SECRETS_KEY, passed as p_key). Admin only.';

create or replace function public.delete_tenant_secret(p_tenant_slug text, p_name text)
returns boolean
language sql volatile security definer set search_path = '' as $$
  with gone as (
    delete from private.tenant_secrets s
    using public.tenants t
    where t.slug = p_tenant_slug and s.tenant_id = t.id and s.name = p_name
    returning 1
  )
  select exists (select from gone)
$$;

comment on function public.delete_tenant_secret(text, text) is
  'Removes a tenant''s upstream credential; returns whether it existed. Admin only.';

-- The function's lookup: the named secrets of one tenant, as {name: value}. Names not set are
-- absent. A tenant id reaches only that tenant's rows: secrets never cross tenants.
create or replace function public.resolve_tenant_secrets(
  p_tenant_id uuid,
  p_names text[],
  p_key text default null
) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_out jsonb := '{}'::jsonb;
  v_value text;
  r record;
begin
  for r in
    select s.name, s.vault_secret_id, s.ciphertext
    from private.tenant_secrets s
    where s.tenant_id = p_tenant_id and s.name = any (p_names)
  loop
    if r.vault_secret_id is not null then
      if not private.vault_available() then
        raise exception 'Secret "%" is kept in Vault, which this database lacks', r.name
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      execute 'select decrypted_secret from vault.decrypted_secrets where id = $1'
        into v_value using r.vault_secret_id;
    else
      if p_key is null then
        raise exception 'Secret "%" is encrypted under TENANT_SECRETS_KEY, which the function does not have', r.name
          using errcode = 'object_not_in_prerequisite_state',
                hint = 'Set TENANT_SECRETS_KEY in the function''s environment.';
      end if;
      begin
        v_value := extensions.pgp_sym_decrypt(r.ciphertext, p_key);
      exception when others then
        raise exception 'Secret "%" cannot be decrypted with the function''s TENANT_SECRETS_KEY', r.name
          using errcode = 'object_not_in_prerequisite_state',
                hint = 'It was set with a different key; set it again with the function''s key.';
      end;
    end if;
    if v_value is not null then
      v_out := v_out || jsonb_build_object(r.name, v_value);
    end if;
  end loop;
  return v_out;
end $$;

comment on function public.resolve_tenant_secrets(uuid, text[], text) is
  'Used by the edge function when an HTTP tool runs: the tenant''s named secrets. service_role only.';

comment on function private.vault_available() is
  'Whether Supabase Vault is installed in this database.';
comment on function private.tenant_secrets_drop_vault_secret() is
  'Trigger: a deleted tenant secret leaves Vault with it.';

-- Only these touch secret values, so only these are security definer; service_role (and no other
-- API role) may call the three RPCs, and has no privilege on private.tenant_secrets itself.
grant execute on function
  public.set_tenant_secret(text, text, text, text),
  public.delete_tenant_secret(text, text),
  public.resolve_tenant_secrets(uuid, text[], text)
to service_role;
