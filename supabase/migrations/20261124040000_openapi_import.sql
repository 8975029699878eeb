-- Imported HTTP tools: `deno task admin tools import-openapi` turns an OpenAPI document into
-- `http` rows of public.tool_catalog and saves them here in one call, so a re-import can say what
-- it added, changed and removed. Every row still passes the catalog's own checks on save (the
-- definition trigger, the tenant re-check); a dry run takes the same path and rolls it back.

alter table public.tool_catalog add column source text;
alter table public.tool_catalog add constraint tool_catalog_source_not_blank
  check (source is null or length(btrim(source)) > 0);

comment on column public.tool_catalog.source is
  'Where a data-defined tool came from, e.g. "openapi:Petstore" for tools imported from that '
  'OpenAPI document; a re-import of the same source updates and removes only these rows. '
  'Empty for tools added by hand.';

create index tool_catalog_source_idx on public.tool_catalog (source) where source is not null;

-- p_tools: [{ "name", "description", "definition" }]. p_http: what the import proposes for the
-- tenant's config.http ({ base_url?, auth? }); only settings the tenant does not have yet are
-- taken. With a tenant the imported tools are its own (tool_catalog.tenant_id) and enabled for it.
create or replace function public.import_http_tools(
  p_source text,
  p_tools jsonb,
  p_tenant_slug text default null,
  p_http jsonb default '{}'::jsonb,
  p_dry_run boolean default false
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants;
  v_tenant_id uuid;
  v_names text[];
  v_conflicts text[];
  v_added text[] := '{}';
  v_changed jsonb := '[]';
  v_unchanged text[] := '{}';
  v_removed text[];
  v_config_set text[] := '{}';
  v_http jsonb;
  v_tool jsonb;
  v_old public.tool_catalog;
  v_version int;
  v_result jsonb;
begin
  if p_source is null or btrim(p_source) = '' then
    raise exception 'An import needs a source name (e.g. openapi:Petstore).'
      using errcode = 'invalid_parameter_value';
  end if;
  if jsonb_typeof(p_tools) is distinct from 'array' then
    raise exception 'p_tools must be a list of {name, description, definition}.'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_tenant_slug is not null then
    v_tenant := private.tenant_by_slug(p_tenant_slug);
    v_tenant_id := v_tenant.id;
  end if;
  v_names := array(select t ->> 'name' from jsonb_array_elements(p_tools) t);

  select array_agg(c.name || case when c.source is null then ' (added by hand)'
                                  else format(' (from %s)', c.source) end order by c.name)
  into v_conflicts
  from public.tool_catalog c
  where c.name = any (v_names)
    and (c.source is distinct from p_source or c.tenant_id is distinct from v_tenant_id);
  if v_conflicts is not null then
    raise exception 'Tool names already taken by other tools: %.', array_to_string(v_conflicts, ', ')
      using errcode = 'unique_violation',
            hint = 'Import with another --prefix, or remove those tools first.';
  end if;

  v_removed := array(
    select c.name from public.tool_catalog c
    where c.source = p_source and c.tenant_id is not distinct from v_tenant_id
      and c.name <> all (v_names)
    order by c.name);

  begin
    if v_tenant_id is not null and cardinality(v_removed) > 0 then
      update public.tenants set enabled_tools = array(
        select n from unnest(enabled_tools) n where n <> all (v_removed) order by n)
      where id = v_tenant_id;
    end if;
    delete from public.tool_catalog c where c.name = any (v_removed);

    for v_tool in select * from jsonb_array_elements(p_tools) loop
      select * into v_old from public.tool_catalog c where c.name = v_tool ->> 'name';
      if not found then
        insert into public.tool_catalog (name, family, description, definition, tenant_id, source)
        values (v_tool ->> 'name', 'http', v_tool ->> 'description', v_tool -> 'definition',
                v_tenant_id, p_source);
        v_added := v_added || (v_tool ->> 'name');
      elsif (v_old.description, v_old.definition)
            is distinct from (v_tool ->> 'description', v_tool -> 'definition') then
        update public.tool_catalog
        set description = v_tool ->> 'description', definition = v_tool -> 'definition'
        where name = v_old.name
        returning version into v_version;
        v_changed := v_changed || jsonb_build_object(
          'name', v_old.name, 'from_version', v_old.version, 'version', v_version);
      else
        v_unchanged := v_unchanged || v_old.name;
      end if;
    end loop;

    if v_tenant_id is not null then
      v_http := coalesce(v_tenant.config -> 'http', '{}');
      if p_http ? 'base_url' and not v_http ? 'base_url' then
        v_http := v_http || jsonb_build_object('base_url', p_http -> 'base_url');
        v_config_set := v_config_set || 'base_url'::text;
      end if;
      if p_http ? 'auth' and not v_http ? 'auth' then
        v_http := v_http || jsonb_build_object('auth', p_http -> 'auth');
        v_config_set := v_config_set || 'auth'::text;
      end if;
      update public.tenants
      set config = config || jsonb_build_object('http', v_http),
          enabled_tools = array(select distinct n from unnest(enabled_tools || v_names) n order by n)
      where id = v_tenant_id;
    end if;

    v_result := jsonb_build_object(
      'source', p_source,
      'tenant', p_tenant_slug,
      'dry_run', p_dry_run,
      'added', to_jsonb(v_added),
      'changed', v_changed,
      'unchanged', to_jsonb(v_unchanged),
      'removed', to_jsonb(v_removed),
      'config_set', to_jsonb(v_config_set),
      'config_http', (select t.config -> 'http' from public.tenants t where t.id = v_tenant_id));
    if p_dry_run then
      -- Every check above has run; this undoes the writes of this block only.
      raise exception 'dry run' using errcode = 'MCPDR';
    end if;
  exception when sqlstate 'MCPDR' then
    null;
  end;
  return v_result;
end $$;

comment on function public.import_http_tools(text, jsonb, text, jsonb, boolean) is
  'Admin: saves the http tools imported from one source (an OpenAPI document) in one go: adds, '
  'updates (version moves) and removes that source''s rows; with a tenant, the tools are its own '
  'and enabled for it. p_dry_run runs every check and writes nothing.';

grant execute on function public.import_http_tools(text, jsonb, text, jsonb, boolean)
to service_role;
