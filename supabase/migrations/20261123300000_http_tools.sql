-- Upstream HTTP API tools: tenants' upstream credentials kept encrypted, and tool definitions
-- stored as data (family 'http' in public.tool_catalog), validated on save.

-------------------------------------------------------------------------------------------------
-- Tenant secrets
--
-- On Supabase the value lives in Vault (vault.create_secret; read through
-- vault.decrypted_secrets) and only its id is kept here. Where Vault is not installed (plain
-- PostgreSQL, the local stack), the value is encrypted with pgcrypto under TENANT_SECRETS_KEY:
-- a key the database never stores. The function sends it with each lookup; admins pass it when
-- setting a secret. A dump of this database alone reveals no secret.
-------------------------------------------------------------------------------------------------

create schema if not exists private;
comment on schema private is
  'Internal tables and functions of the MCP tools server. Not exposed through the API.';
revoke all on schema private from public;

create table private.tenant_secrets (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null,
  vault_secret_id uuid,
  ciphertext bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, name),
  constraint tenant_secrets_name_format check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
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
revoke all on table private.tenant_secrets from public, anon, authenticated, service_role;

create or replace function private.vault_available() returns boolean
language sql stable set search_path = '' as $$
  select to_regprocedure('vault.create_secret(text, text, text)') is not null
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
  if p_name is null or p_name !~ '^[a-z][a-z0-9_]{0,62}$' then
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

revoke all on function public.set_tenant_secret(text, text, text, text) from public, anon, authenticated;
revoke all on function public.delete_tenant_secret(text, text) from public, anon, authenticated;
revoke all on function public.resolve_tenant_secrets(uuid, text[], text) from public, anon, authenticated;
revoke all on function private.vault_available() from public;
revoke all on function private.tenant_secrets_drop_vault_secret() from public;
grant execute on function public.set_tenant_secret(text, text, text, text) to service_role;
grant execute on function public.delete_tenant_secret(text, text) to service_role;
grant execute on function public.resolve_tenant_secrets(uuid, text[], text) to service_role;

-------------------------------------------------------------------------------------------------
-- The http family: tools whose whole definition is data in tool_catalog.definition
-------------------------------------------------------------------------------------------------

insert into public.tool_families (family, description, config_schema) values (
  'http',
  'Calls the tenant''s own HTTP API with the tenant''s base URL, headers and credentials.',
  $json${
    "type": "object",
    "required": ["http"],
    "properties": {
      "http": {
        "type": "object",
        "description": "the tenant's upstream API",
        "required": ["base_url"],
        "additionalProperties": false,
        "properties": {
          "base_url": {
            "type": "string",
            "format": "uri",
            "pattern": "^https?://[^/?#@[:space:]]+(/[^?#[:space:]]*)?$",
            "description": "e.g. https://api.example.com/v1, without query or credentials"
          },
          "headers": {
            "type": "object",
            "description": "headers sent on every call: text, or {\"secret\": \"<name>\"}",
            "additionalProperties": {
              "type": ["string", "object"],
              "required": ["secret"],
              "additionalProperties": false,
              "properties": {
                "secret": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$" }
              }
            }
          },
          "auth": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": false,
            "properties": {
              "type": { "enum": ["none", "bearer", "header", "basic"] },
              "secret": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_]{0,62}$",
                "description": "the name of a secret set with set_tenant_secret, never the credential itself"
              },
              "header": { "type": "string", "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" },
              "username": { "type": "string", "minLength": 1 }
            }
          }
        }
      }
    }
  }$json$::jsonb
);

-- The same contract the function checks (tools/http/definition.ts), in words for the admin
-- saving the row. Returns one message per problem; empty when the definition is usable.
create or replace function public.http_tool_definition_problems(p jsonb) returns text[]
language plpgsql immutable set search_path = '' as $$
declare
  v text[] := '{}';
  v_fields text[] := array['method', 'path', 'title', 'input_schema', 'query', 'body', 'headers',
                           'response', 'annotations', 'timeout_ms'];
  v_reserved text[] := array['authorization', 'proxy-authorization', 'cookie', 'host',
                             'content-length', 'content-type', 'transfer-encoding', 'connection',
                             'upgrade', 'te', 'trailer', 'keep-alive', 'expect'];
  v_arg text := '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
  v_key text;
  v_val jsonb;
  v_props jsonb := '{}';
  v_required jsonb := '[]';
  v_used jsonb := '{}';
  v_uses text[][] := '{}';
  v_name text;
  v_where text;
  i int;
begin
  if p is null or jsonb_typeof(p) <> 'object' then
    return array['the definition must be a JSON object'];
  end if;
  for v_key in select jsonb_object_keys(p) loop
    if not v_key = any (v_fields) then
      v := v || format('%s is not a known field (known: %s)', v_key, array_to_string(v_fields, ', '));
    end if;
  end loop;

  if coalesce(p ->> 'method', '') not in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
     or jsonb_typeof(p -> 'method') <> 'string' then
    v := v || 'method must be one of GET, POST, PUT, PATCH, DELETE'::text;
  end if;
  if jsonb_typeof(p -> 'path') is distinct from 'string' or (p ->> 'path') !~ '^/[^?#[:space:]]*$'
     or length(p ->> 'path') > 2000 then
    v := v || 'path must start with / and hold no query, fragment or spaces (e.g. /orders/{order_id})'::text;
  elsif regexp_replace(p ->> 'path', '\{[^{}]*\}', '', 'g') ~ '[{}]' then
    v := v || 'path has an unbalanced { or }'::text;
  end if;
  if p ? 'title' and (jsonb_typeof(p -> 'title') <> 'string' or length(p ->> 'title') not between 1 and 200) then
    v := v || 'title must be text of 1-200 characters'::text;
  end if;

  if jsonb_typeof(p -> 'input_schema') is distinct from 'object'
     or (p -> 'input_schema' ->> 'type') is distinct from 'object' then
    v := v || 'input_schema must be a JSON Schema object with "type": "object"'::text;
  else
    v_props := coalesce(p -> 'input_schema' -> 'properties', '{}');
    v_required := coalesce(p -> 'input_schema' -> 'required', '[]');
    if jsonb_typeof(v_props) <> 'object' then
      v := v || 'input_schema.properties must be an object'::text;
      v_props := '{}';
    end if;
    if jsonb_typeof(v_required) <> 'array' then
      v := v || 'input_schema.required must be a list of argument names'::text;
      v_required := '[]';
    end if;
    for v_key, v_val in select key, value from jsonb_each(v_props) loop
      if jsonb_typeof(v_val) <> 'object' then
        v := v || format('input_schema.properties.%s must be a JSON Schema object', v_key);
      elsif v_val ? 'type' and not (
        (jsonb_typeof(v_val -> 'type') = 'string'
         and v_val ->> 'type' in ('string', 'integer', 'number', 'boolean', 'array', 'object', 'null'))
        or jsonb_typeof(v_val -> 'type') = 'array') then
        v := v || format('input_schema.properties.%s.type "%s" is not a JSON Schema type', v_key, v_val ->> 'type');
      end if;
    end loop;
  end if;

  -- Where each argument goes: path placeholders, query, body, headers. Each exactly once.
  if jsonb_typeof(p -> 'path') = 'string' then
    for v_name in select m[1] from regexp_matches(p ->> 'path', '\{([^{}]*)\}', 'g') m loop
      v_uses := v_uses || array[[v_name, 'path']];
    end loop;
  end if;
  foreach v_where in array array['query', 'body'] loop
    if p ? v_where then
      if jsonb_typeof(p -> v_where) <> 'array' then
        v := v || format('%s must be a list of argument names', v_where);
      else
        for v_val in select value from jsonb_array_elements(p -> v_where) loop
          v_uses := v_uses || array[[coalesce(v_val #>> '{}', ''), v_where]];
        end loop;
      end if;
    end if;
  end loop;
  if p ? 'headers' then
    if jsonb_typeof(p -> 'headers') <> 'object' then
      v := v || 'headers must map header names to argument names'::text;
    else
      for v_key, v_val in select key, value from jsonb_each(p -> 'headers') loop
        if v_key !~ '^[A-Za-z0-9!#$%&''*+.^_`|~-]{1,64}$' then
          v := v || format('headers: "%s" is not a header name', v_key);
        elsif lower(v_key) = any (v_reserved) then
          v := v || format('header "%s" can''t be set from an argument', v_key);
        end if;
        v_uses := v_uses || array[[coalesce(v_val #>> '{}', ''), 'header ' || v_key]];
      end loop;
    end if;
  end if;

  for i in 1 .. coalesce(array_length(v_uses, 1), 0) loop
    v_name := v_uses[i][1];
    v_where := v_uses[i][2];
    if v_name !~ v_arg then
      v := v || format('%s: "%s" is not an argument name', v_where, v_name);
      continue;
    end if;
    if v_used ? v_name then
      v := v || format('argument "%s" is used twice (%s and %s)', v_name, v_used ->> v_name, v_where);
    else
      v_used := v_used || jsonb_build_object(v_name, v_where);
    end if;
    if not v_props ? v_name then
      v := v || format('argument "%s" (%s) is not in input_schema.properties', v_name, v_where);
    end if;
    if v_where = 'path' then
      if not v_required ? v_name then
        v := v || format('path argument "%s" must be listed in input_schema.required', v_name);
      end if;
      if v_props -> v_name ? 'type'
         and (v_props -> v_name ->> 'type') not in ('string', 'integer', 'number') then
        v := v || format('path argument "%s" must be a string, integer or number', v_name);
      end if;
    end if;
  end loop;
  for v_key in select jsonb_object_keys(v_props) loop
    if not v_used ? v_key then
      v := v || format('argument "%s" is in input_schema but not sent (path, query, body or headers)', v_key);
    end if;
  end loop;
  if p ->> 'method' = 'GET' and jsonb_typeof(p -> 'body') = 'array'
     and jsonb_array_length(p -> 'body') > 0 then
    v := v || 'a GET request can''t have body arguments; use query instead'::text;
  end if;

  if p ? 'response' then
    if jsonb_typeof(p -> 'response') <> 'object' then
      v := v || 'response must be an object like {"type": "json", "max_chars": 20000}'::text;
    else
      for v_key in select jsonb_object_keys(p -> 'response') loop
        if v_key not in ('type', 'max_chars') then
          v := v || format('response.%s is not a known field (known: type, max_chars)', v_key);
        end if;
      end loop;
      if p -> 'response' ? 'type' and coalesce(p -> 'response' ->> 'type', '') not in ('auto', 'json', 'text') then
        v := v || 'response.type must be auto, json or text'::text;
      end if;
      if p -> 'response' ? 'max_chars' and not (
        jsonb_typeof(p -> 'response' -> 'max_chars') = 'number'
        and (p -> 'response' ->> 'max_chars')::numeric between 100 and 1000000
        and (p -> 'response' ->> 'max_chars')::numeric = trunc((p -> 'response' ->> 'max_chars')::numeric)) then
        v := v || 'response.max_chars must be a whole number from 100 to 1000000'::text;
      end if;
    end if;
  end if;
  if p ? 'annotations' then
    if jsonb_typeof(p -> 'annotations') <> 'object' then
      v := v || 'annotations must be an object'::text;
    else
      for v_key, v_val in select key, value from jsonb_each(p -> 'annotations') loop
        if v_key not in ('readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint')
           or jsonb_typeof(v_val) <> 'boolean' then
          v := v || format('annotations.%s is not a known hint (readOnlyHint, destructiveHint, idempotentHint, openWorldHint: true/false)', v_key);
        end if;
      end loop;
    end if;
  end if;
  if p ? 'timeout_ms' and not (
    jsonb_typeof(p -> 'timeout_ms') = 'number'
    and (p ->> 'timeout_ms')::numeric between 100 and 120000
    and (p ->> 'timeout_ms')::numeric = trunc((p ->> 'timeout_ms')::numeric)) then
    v := v || 'timeout_ms must be a whole number from 100 to 120000'::text;
  end if;
  return v;
end $$;

comment on function public.http_tool_definition_problems(jsonb) is
  'Why an HTTP tool definition is unusable, one message per problem; empty when it is fine.';

create or replace function public.tool_catalog_check_http_definition() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_problems text[];
begin
  if new.family <> 'http' then
    return new;
  end if;
  if new.definition is null then
    raise exception 'HTTP tool "%" needs a definition', new.name
      using errcode = 'check_violation',
            hint = 'Fill tool_catalog.definition with method, path and input_schema (see README).';
  end if;
  v_problems := public.http_tool_definition_problems(new.definition);
  if cardinality(v_problems) > 0 then
    raise exception 'HTTP tool "%" has an invalid definition: %', new.name,
      array_to_string(v_problems, '; ')
      using errcode = 'check_violation',
            hint = 'Fix the definition and save again; see README, "HTTP API tools".';
  end if;
  return new;
end $$;

create trigger tool_catalog_check_http_definition
before insert or update on public.tool_catalog
for each row execute function public.tool_catalog_check_http_definition();

comment on column public.tool_catalog.definition is
  'For data-defined tools only (family http): {"method", "path" (e.g. /orders/{order_id}), '
  '"input_schema" (JSON Schema), "query"/"body" (argument names), "headers" ({header: argument}), '
  '"response" ({"type": auto|json|text, "max_chars"}), "annotations", "timeout_ms"}. Checked on save.';

revoke all on function public.http_tool_definition_problems(jsonb) from public, anon, authenticated;
revoke all on function public.tool_catalog_check_http_definition() from public, anon, authenticated;
