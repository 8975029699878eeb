-- Supabase Vault's interface and grants, for plain PostgreSQL (the `supabase_vault` extension,
-- 0.2.8 and 0.3.x, is not packaged for it). Same names, signatures, columns, ownership and
-- privileges as on a hosted project; only the cipher differs (pgcrypto under a key only the
-- owner can read, where Vault uses pgsodium under the server's root key).
--
-- Not part of the default stack: hosted Supabase has Vault, plain PostgreSQL does not, and the
-- migrations must work on both. Tests load it to run the Vault path and drop it afterwards.

do $$
begin
  if not exists (select from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin nologin;
  end if;
end $$;

create schema vault authorization supabase_admin;
grant usage on schema extensions to supabase_admin;
set role supabase_admin;

-- The stand-in's key: readable by the owner only (Vault keeps its root key outside SQL).
create table vault._stand_in_key (key text not null);
insert into vault._stand_in_key values (encode(extensions.gen_random_bytes(32), 'hex'));

create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default extensions.gen_random_bytes(16),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);
comment on table vault.secrets is
  'Table with encrypted `secret` column for storing sensitive information on disk.';
create unique index on vault.secrets using btree (name) where name is not null;

create function vault._crypto_aead_det_decrypt(message bytea, additional bytea)
returns bytea language sql stable security definer set search_path = '' as $$
  select convert_to(
    extensions.pgp_sym_decrypt(message, (select key from vault._stand_in_key) || encode(additional, 'hex')),
    'utf8')
$$;

create function vault._encrypt(plain text, id uuid) returns text
language sql stable security definer set search_path = '' as $$
  select encode(
    extensions.pgp_sym_encrypt(plain, (select key from vault._stand_in_key) || encode(convert_to(id::text, 'utf8'), 'hex')),
    'base64')
$$;

create view vault.decrypted_secrets as
select s.id, s.name, s.description, s.secret,
  convert_from(
    vault._crypto_aead_det_decrypt(decode(s.secret, 'base64'), convert_to(s.id::text, 'utf8')),
    'utf8'
  ) as decrypted_secret,
  s.key_id, s.nonce, s.created_at, s.updated_at
from vault.secrets s;

create function vault.create_secret(
  new_secret text,
  new_name text = null,
  new_description text = '',
  new_key_id uuid = null
) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_id uuid := gen_random_uuid();
begin
  insert into vault.secrets (id, secret, name, description)
  values (v_id, vault._encrypt(new_secret, v_id), new_name, new_description);
  return v_id;
end $$;

create function vault.update_secret(
  secret_id uuid,
  new_secret text = null,
  new_name text = null,
  new_description text = null,
  new_key_id uuid = null
) returns void
language plpgsql security definer set search_path = '' as $$
begin
  update vault.secrets s set
    secret = case when new_secret is null then s.secret else vault._encrypt(new_secret, s.id) end,
    name = coalesce(new_name, s.name),
    description = coalesce(new_description, s.description),
    updated_at = now()
  where s.id = secret_id;
end $$;

reset role;

-- As Supabase's extension scripts grant them: nothing to PUBLIC (so nothing to anon or
-- authenticated); postgres and service_role may read, delete and call the two functions.
revoke all on function
  vault._crypto_aead_det_decrypt(bytea, bytea),
  vault._encrypt(text, uuid),
  vault.create_secret(text, text, text, uuid),
  vault.update_secret(uuid, text, text, text, uuid)
from public;
grant usage on schema vault to postgres with grant option;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres with grant option;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_aead_det_decrypt
  to postgres with grant option;
grant usage on schema vault to service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to service_role;
grant execute on function vault.create_secret, vault.update_secret, vault._crypto_aead_det_decrypt
  to service_role;
