-- The tool catalog: which tools exist, which family each belongs to, what configuration a family
-- needs from a tenant, and a version that changes whenever a tool's definition does. Tenants may
-- only enable tools listed here; the function serves a tenant exactly the catalog rows it enables.
-- The rows of the tools defined in code are generated (see the code_tools migration).

create table public.tool_families (
  family text primary key,
  description text not null,
  config_schema jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tool_families_family_format check (family ~ '^[a-z][a-z0-9_]{1,31}$'),
  constraint tool_families_description_not_blank check (length(btrim(description)) > 0),
  constraint tool_families_config_schema_is_object check (jsonb_typeof(config_schema) = 'object')
);

comment on table public.tool_families is
  'Groups of tools. A family can require settings in the config of every tenant that enables one of its tools.';
comment on column public.tool_families.family is
  'Family name, e.g. builtin, crm, http. Lowercase letters, digits and underscores.';
comment on column public.tool_families.description is 'What the tools of this family do.';
comment on column public.tool_families.config_schema is
  'What tenants.config must contain when a tenant enables a tool of this family, as a small JSON Schema '
  '(type, required, properties, additionalProperties, propertyNames, items, enum, const, pattern, '
  'minLength, maxLength, minimum, maximum, format uri/uuid). {} means no requirements.';
comment on column public.tool_families.created_at is 'Set when the family is created.';
comment on column public.tool_families.updated_at is 'Set automatically on every change.';

create table public.tool_catalog (
  name text primary key,
  family text not null references public.tool_families (family) on update cascade,
  description text not null,
  version integer not null default 1,
  tenant_id uuid references public.tenants (id) on delete cascade,
  definition jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tool_catalog_name_format check (name ~ '^[a-z][a-z0-9_]{1,63}$'),
  constraint tool_catalog_description_not_blank check (length(btrim(description)) > 0),
  constraint tool_catalog_version_positive check (version >= 1),
  constraint tool_catalog_definition_is_object
    check (definition is null or jsonb_typeof(definition) = 'object')
);

create index tool_catalog_family_idx on public.tool_catalog (family);
create index tool_catalog_tenant_id_idx on public.tool_catalog (tenant_id) where tenant_id is not null;

comment on table public.tool_catalog is
  'Every tool tenants can enable. Tools defined in code are listed here by migrations; '
  'data-defined tools (family http) are added here by admins.';
comment on column public.tool_catalog.name is
  'Tool name as agents see it: lowercase letters, digits and underscores, 2-64 characters.';
comment on column public.tool_catalog.family is 'The family the tool belongs to (see tool_families).';
comment on column public.tool_catalog.description is
  'What agents are told the tool does (shown in tools/list). Editing it bumps version.';
comment on column public.tool_catalog.version is
  'Increases automatically when description, definition or family changes; tenants get the new '
  'definition within the cache TTL.';
comment on column public.tool_catalog.tenant_id is
  'Empty: any tenant may enable the tool. Set: only this tenant may (e.g. an API tool for its own upstream).';
comment on column public.tool_catalog.definition is
  'For data-defined tools only (family http): {"method", "path" (e.g. /orders/{order_id}), '
  '"input_schema" (JSON Schema), "query"/"body" (argument names), "headers" ({header: argument}), '
  '"response" ({"type": auto|json|text, "max_chars"}), "annotations", "timeout_ms"}. Checked on save.';
comment on column public.tool_catalog.created_at is 'Set when the tool is added.';
comment on column public.tool_catalog.updated_at is 'Set automatically on every change.';

alter table public.tool_families enable row level security;
alter table public.tool_catalog enable row level security;

create trigger tool_families_touch_updated_at
before update on public.tool_families
for each row execute function private.touch_updated_at();

-- A changed definition must reach every isolate as a new fingerprint, so the version moves with it
-- even when an admin edits the row by hand and forgets the version.
create or replace function private.tool_catalog_bump_version() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  if (new.description, new.definition, new.family)
       is distinct from (old.description, old.definition, old.family)
     and new.version <= old.version then
    new.version := old.version + 1;
  end if;
  return new;
end $$;

comment on function private.tool_catalog_bump_version() is
  'Trigger: bumps tool_catalog.version when what agents are served changes.';

create trigger tool_catalog_bump_version
before update on public.tool_catalog
for each row execute function private.tool_catalog_bump_version();

-- A JSON Schema subset, enough to say "config.http.base_url is required" in words an admin
-- understands: type, enum, const, minLength, maxLength, pattern, format (uri, uuid), minimum,
-- maximum, exclusiveMinimum, exclusiveMaximum, required, properties, additionalProperties,
-- propertyNames, items. Other keywords ($schema, default, title, ...) are ignored. A schema's
-- description is quoted after each problem it reports. p_path names the value ('' for the root).
-- Returns one message per problem; empty when the value fits.
create or replace function private.json_schema_problems(p_value jsonb, p_schema jsonb, p_path text)
returns text[]
language plpgsql immutable set search_path = '' as $$
declare
  v_problems text[] := '{}';
  v_type text := jsonb_typeof(p_value);
  v_types text[];
  v_key text;
  v_sub jsonb;
  v_label text;
  v_at text := coalesce(nullif(p_path, ''), 'the value');
  v_prefix text := case when p_path = '' then '' else p_path || '.' end;
  v_number numeric;
begin
  if p_schema is null or jsonb_typeof(p_schema) <> 'object' or p_value is null then
    return v_problems;
  end if;
  v_label := coalesce(' (' || (p_schema ->> 'description') || ')', '');

  if p_schema ? 'type' then
    v_types := case jsonb_typeof(p_schema -> 'type')
      when 'array' then array(select jsonb_array_elements_text(p_schema -> 'type'))
      else array[p_schema ->> 'type'] end;
    if not (v_type = any (v_types)
            or ('integer' = any (v_types) and v_type = 'number'
                and (p_value #>> '{}')::numeric = trunc((p_value #>> '{}')::numeric))) then
      return array[format('%s must be %s, not %s%s', v_at,
        array_to_string(array(select case t when 'object' then 'an object' when 'array' then 'a list'
          when 'integer' then 'a whole number' else 'a ' || t end from unnest(v_types) t), ' or '),
        case v_type when 'object' then 'an object' when 'array' then 'a list'
          when 'null' then 'null' when 'number' then p_value::text else 'a ' || v_type end,
        v_label)];
    end if;
  end if;

  if p_schema ? 'const' and p_value is distinct from p_schema -> 'const' then
    v_problems := v_problems || format('%s must be %s%s', v_at, p_schema -> 'const', v_label);
  end if;
  if p_schema ? 'enum' and not (p_schema -> 'enum') @> jsonb_build_array(p_value) then
    v_problems := v_problems || format('%s must be one of %s%s', v_at,
      (select string_agg(e::text, ', ') from jsonb_array_elements(p_schema -> 'enum') e), v_label);
  end if;

  if v_type = 'string' then
    if p_schema ? 'minLength' and length(p_value #>> '{}') < (p_schema ->> 'minLength')::int then
      v_problems := v_problems || format('%s must be at least %s characters%s', v_at,
        p_schema ->> 'minLength', v_label);
    end if;
    if p_schema ? 'maxLength' and length(p_value #>> '{}') > (p_schema ->> 'maxLength')::int then
      v_problems := v_problems || format('%s must be at most %s characters%s', v_at,
        p_schema ->> 'maxLength', v_label);
    end if;
    if p_schema ? 'pattern' and (p_value #>> '{}') !~ (p_schema ->> 'pattern') then
      v_problems := v_problems || format('%s must match %s%s', v_at, p_schema ->> 'pattern', v_label);
    end if;
    if p_schema ->> 'format' = 'uri' and (p_value #>> '{}') !~ '^https?://[^/\s]+' then
      v_problems := v_problems || format('%s must be an http(s) URL%s', v_at, v_label);
    end if;
    if p_schema ->> 'format' = 'uuid'
       and (p_value #>> '{}') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      v_problems := v_problems || format('%s must be a UUID%s', v_at, v_label);
    end if;
  elsif v_type = 'number' then
    v_number := (p_value #>> '{}')::numeric;
    if p_schema ? 'minimum' and v_number < (p_schema ->> 'minimum')::numeric then
      v_problems := v_problems || format('%s must be at least %s%s', v_at, p_schema ->> 'minimum', v_label);
    end if;
    if p_schema ? 'maximum' and v_number > (p_schema ->> 'maximum')::numeric then
      v_problems := v_problems || format('%s must be at most %s%s', v_at, p_schema ->> 'maximum', v_label);
    end if;
    if p_schema ? 'exclusiveMinimum' and v_number <= (p_schema ->> 'exclusiveMinimum')::numeric then
      v_problems := v_problems || format('%s must be more than %s%s', v_at,
        p_schema ->> 'exclusiveMinimum', v_label);
    end if;
    if p_schema ? 'exclusiveMaximum' and v_number >= (p_schema ->> 'exclusiveMaximum')::numeric then
      v_problems := v_problems || format('%s must be less than %s%s', v_at,
        p_schema ->> 'exclusiveMaximum', v_label);
    end if;
  elsif v_type = 'object' then
    for v_key in select jsonb_array_elements_text(coalesce(p_schema -> 'required', '[]')) loop
      if not p_value ? v_key then
        v_sub := p_schema #> array['properties', v_key];
        v_problems := v_problems || format('%s%s is required%s', v_prefix, v_key,
          coalesce(' (' || (v_sub ->> 'description') || ')', ''));
      end if;
    end loop;
    for v_key, v_sub in select key, value from jsonb_each(p_value) loop
      if jsonb_typeof(p_schema -> 'propertyNames') = 'object' then
        v_problems := v_problems || private.json_schema_problems(
          to_jsonb(v_key), p_schema -> 'propertyNames', format('%s name "%s"', v_at, v_key));
      end if;
      if p_schema -> 'properties' ? v_key then
        v_problems := v_problems || private.json_schema_problems(
          v_sub, p_schema -> 'properties' -> v_key, v_prefix || v_key);
      elsif p_schema -> 'additionalProperties' = 'false'::jsonb then
        v_problems := v_problems || format('%s%s is not a known setting (known: %s)', v_prefix, v_key,
          (select string_agg(k, ', ' order by k) from jsonb_object_keys(p_schema -> 'properties') k));
      elsif jsonb_typeof(p_schema -> 'additionalProperties') = 'object' then
        v_problems := v_problems || private.json_schema_problems(
          v_sub, p_schema -> 'additionalProperties', v_prefix || v_key);
      end if;
    end loop;
  elsif v_type = 'array' and p_schema ? 'items' then
    for v_key, v_sub in select (ordinality - 1)::text, value
                        from jsonb_array_elements(p_value) with ordinality loop
      v_problems := v_problems || private.json_schema_problems(
        v_sub, p_schema -> 'items', v_at || '[' || v_key || ']');
    end loop;
  end if;
  return v_problems;
end $$;

comment on function private.json_schema_problems(jsonb, jsonb, text) is
  'Checks a JSON value against a small JSON Schema subset; returns readable problems, or none.';

-- Why a tenant row is not acceptable, in one message for the admin who is editing it; null if fine.
create or replace function private.tenant_row_problem(
  p_tenant_id uuid,
  p_enabled_tools text[],
  p_config jsonb
) returns text
language plpgsql stable set search_path = '' as $$
declare
  v_unknown text[];
  v_foreign text[];
  v_family record;
  v_problems text[];
begin
  select array_agg(n order by n) into v_unknown
  from unnest(p_enabled_tools) n
  where not exists (select 1 from public.tool_catalog c where c.name = n);
  if v_unknown is not null then
    return format('enabled_tools names %s unknown tool%s: %s. Valid tools: %s.',
      case when cardinality(v_unknown) = 1 then 'an' else cardinality(v_unknown)::text end,
      case when cardinality(v_unknown) = 1 then '' else 's' end,
      array_to_string(v_unknown, ', '),
      coalesce((select string_agg(c.name, ', ' order by c.name) from public.tool_catalog c
                where c.tenant_id is null or c.tenant_id = p_tenant_id), 'none'));
  end if;

  select array_agg(c.name order by c.name) into v_foreign
  from public.tool_catalog c
  where c.name = any (p_enabled_tools) and c.tenant_id is not null
    and c.tenant_id is distinct from p_tenant_id;
  if v_foreign is not null then
    return format('enabled_tools names tools that belong to another tenant: %s.',
      array_to_string(v_foreign, ', '));
  end if;

  for v_family in
    select f.family, f.config_schema, array_agg(c.name order by c.name) as tools
    from public.tool_catalog c join public.tool_families f on f.family = c.family
    where c.name = any (p_enabled_tools) and f.config_schema <> '{}'::jsonb
    group by f.family, f.config_schema
    order by f.family
  loop
    v_problems := private.json_schema_problems(p_config, v_family.config_schema, 'config');
    if cardinality(v_problems) > 0 then
      return format('config does not fit the %s tools enabled (%s): %s.',
        v_family.family, array_to_string(v_family.tools, ', '), array_to_string(v_problems, '; '));
    end if;
  end loop;
  return null;
end $$;

comment on function private.tenant_row_problem(uuid, text[], jsonb) is
  'Why a tenant''s enabled_tools/config are not acceptable, or null. Used by triggers.';

create or replace function private.tenants_check_tools() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_problem text := private.tenant_row_problem(new.id, new.enabled_tools, new.config);
begin
  if v_problem is not null then
    raise exception 'Tenant "%": %', new.slug, v_problem
      using errcode = 'check_violation',
            hint = 'See the tool_catalog and tool_families tables for valid tools and required config.';
  end if;
  return new;
end $$;

comment on function private.tenants_check_tools() is
  'Trigger: refuses a tenant whose enabled_tools or config do not fit the catalog.';

create trigger tenants_check_tools
before insert or update of enabled_tools, config on public.tenants
for each row execute function private.tenants_check_tools();

-- Changing or removing a catalog row or a family's requirements must not silently break tenants
-- that rely on it: re-check those tenants after the change.
create or replace function private.catalog_recheck_tenants() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_tenant record;
  v_problem text;
  v_tools text[];
begin
  if tg_table_name = 'tool_catalog' then
    v_tools := array[old.name];
  else
    v_tools := array(select c.name from public.tool_catalog c where c.family = new.family);
  end if;
  for v_tenant in
    select t.id, t.slug, t.enabled_tools, t.config from public.tenants t
    where t.enabled_tools && v_tools
    order by t.slug
  loop
    v_problem := private.tenant_row_problem(v_tenant.id, v_tenant.enabled_tools, v_tenant.config);
    if v_problem is not null then
      raise exception 'This change would break tenant "%": %', v_tenant.slug, v_problem
        using errcode = 'check_violation',
              hint = 'Change the tenant first (its enabled_tools or config), then retry.';
    end if;
  end loop;
  return null;
end $$;

comment on function private.catalog_recheck_tenants() is
  'Trigger: refuses a catalog or family change that would break a tenant relying on it.';

create trigger tool_catalog_recheck_tenants
after update or delete on public.tool_catalog
for each row execute function private.catalog_recheck_tenants();

create trigger tool_families_recheck_tenants
after update on public.tool_families
for each row execute function private.catalog_recheck_tenants();

-- Triggers fire for service_role too (admin RPCs, the API) and call these as that role.
grant execute on function
  private.json_schema_problems(jsonb, jsonb, text),
  private.tenant_row_problem(uuid, text[], jsonb)
to service_role;

-- The families of the tools defined in code; their tools' rows are generated from the code.
insert into public.tool_families (family, description) values
  ('builtin', 'Tools built into the server: who am I, and a connectivity check.'),
  ('conformance', 'Fixtures for the MCP conformance suite. For test tenants only; never for real ones.')
on conflict (family) do nothing;
