-- Upstream HTTP API tools: tool definitions stored as data (family 'http' in public.tool_catalog),
-- validated on save, and the family's requirements on each tenant's config.http.
--
-- A definition is checked in two steps: its shape against private.http_definition_schema(), the
-- JSON Schema generated from the function's own zod schema (HttpDefinitionSchema), with the
-- generic validator private.json_schema_problems; then the rules that relate one field to another,
-- written by hand below (the function checks the same ones in tools/http/definition.ts).

-- The family. Secret and header names follow the patterns generated from the function's code.
insert into public.tool_families (family, description, config_schema) values (
  'http',
  'Calls the tenant''s own HTTP API with the tenant''s base URL, headers and credentials.',
  replace(replace($json${
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
            "propertyNames": { "type": "string", "pattern": "<HEADER_NAME>", "description": "a header name" },
            "additionalProperties": {
              "type": ["string", "object"],
              "required": ["secret"],
              "additionalProperties": false,
              "properties": {
                "secret": { "type": "string", "pattern": "<SECRET_NAME>" }
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
                "pattern": "<SECRET_NAME>",
                "description": "the name of a secret set with set_tenant_secret, never the credential itself"
              },
              "header": { "type": "string", "pattern": "<HEADER_NAME>" },
              "username": { "type": "string", "minLength": 1 }
            }
          }
        }
      }
    }
  }$json$,
    '"<SECRET_NAME>"', to_jsonb(private.secret_name_pattern())::text),
    '"<HEADER_NAME>"', to_jsonb(private.header_name_pattern())::text)::jsonb
)
on conflict (family) do nothing;


-- An input_schema's keywords and limits come from the function's code (private.input_schema_keywords
-- and _limits, generated); the walk below applies them as tools/http/input_schema.ts does.
create or replace function private.input_schema_problems(p jsonb, p_at text, p_depth int)
returns text[]
language plpgsql immutable set search_path = '' as $$
declare
  v text[] := '{}';
  v_keywords jsonb := private.input_schema_keywords();
  v_limits jsonb := private.input_schema_limits();
  v_key text;
  v_val jsonb;
  v_kind text;
  v_where text;
  v_problem text;
  v_name text;
  v_pair jsonb;
begin
  if jsonb_typeof(p) <> 'object' then
    return array[format('%s must be a JSON Schema object', p_at)];
  end if;
  if p_depth > (v_limits ->> 'depth')::int then
    return array[format('%s is nested deeper than %s levels', p_at, v_limits ->> 'depth')];
  end if;
  for v_key, v_val in select key, value from jsonb_each(p) loop
    v_kind := v_keywords ->> v_key;
    v_where := p_at || '.' || v_key;
    v_problem := null;
    if v_kind is null then
      if not (p_depth = 0 and v_key = '$schema') then
        v := v || format('%s: the keyword "%s" is not supported (use: %s)', v_where, v_key,
          (select string_agg(k, ', ') from jsonb_object_keys(v_keywords) k));
      end if;
      continue;
    end if;
    v_problem := case v_kind
      when 'types' then
        case
          when jsonb_typeof(v_val) = 'array' and jsonb_array_length(v_val) = 0
            then 'is an empty list, so no value can match'
          when exists (select 1 from jsonb_array_elements(
                 case jsonb_typeof(v_val) when 'array' then v_val else jsonb_build_array(v_val) end) t
               where not (v_limits -> 'types') @> jsonb_build_array(t))
            then format('must be one of %s (or a list of them)',
              (select string_agg(t, ', ') from jsonb_array_elements_text(v_limits -> 'types') t))
        end
      when 'text' then
        case when jsonb_typeof(v_val) <> 'string' then 'must be text' end
      when 'any' then null
      when 'enum' then
        case
          when jsonb_typeof(v_val) <> 'array' then 'must be a list of values'
          when jsonb_array_length(v_val) = 0 then 'is an empty list, so no value can match'
          when jsonb_array_length(v_val) > (v_limits ->> 'enumValues')::int
            then format('has more than %s values', v_limits ->> 'enumValues')
        end
      when 'count' then
        case when jsonb_typeof(v_val) <> 'number' or v_val::numeric < 0
               or v_val::numeric <> trunc(v_val::numeric)
          then 'must be a whole number, 0 or more' end
      when 'number' then
        case when jsonb_typeof(v_val) <> 'number' then 'must be a number' end
      when 'positive' then
        case when jsonb_typeof(v_val) <> 'number' or v_val::numeric <= 0
          then 'must be a number more than 0' end
      when 'pattern' then
        case when jsonb_typeof(v_val) <> 'string' then 'must be text (a regular expression)'
          else private.pattern_problem(v_val #>> '{}') end
      when 'properties' then
        case when jsonb_typeof(v_val) <> 'object' then 'must be an object of argument schemas' end
      when 'required' then
        case when jsonb_typeof(v_val) <> 'array'
               or exists (select 1 from jsonb_array_elements(v_val) e where jsonb_typeof(e) <> 'string')
               or (select count(distinct e) <> count(*) from jsonb_array_elements(v_val) e)
          then 'must be a list of distinct argument names' end
      when 'schema' then
        case when jsonb_typeof(v_val) <> 'object' then 'must be a JSON Schema object' end
      when 'schema_or_boolean' then
        case when jsonb_typeof(v_val) not in ('object', 'boolean')
          then 'must be true, false or a JSON Schema object' end
      when 'schemas' then
        case
          when jsonb_typeof(v_val) <> 'array'
               or exists (select 1 from jsonb_array_elements(v_val) b where jsonb_typeof(b) <> 'object')
            then 'must be a list of JSON Schema objects (the choices)'
          when jsonb_array_length(v_val) = 0 then 'is an empty list, so no value can match'
          when jsonb_array_length(v_val) > (v_limits ->> 'branches')::int
            then format('has more than %s choices', v_limits ->> 'branches')
        end
      -- A kind this walk does not know is refused rather than let through unchecked.
      else format('can''t be checked by the database (keyword kind "%s")', v_kind)
    end;
    if v_problem is not null then
      v := v || format('%s %s', v_where, v_problem);
    elsif v_kind = 'properties' then
      for v_name, v_val in select key, value from jsonb_each(p -> 'properties') loop
        v := v || private.input_schema_problems(v_val, v_where || '.' || v_name, p_depth + 1);
      end loop;
    elsif v_kind = 'schema' or (v_kind = 'schema_or_boolean' and jsonb_typeof(v_val) = 'object') then
      v := v || private.input_schema_problems(v_val, v_where, p_depth + 1);
    elsif v_kind = 'schemas' then
      for v_val, v_name in select value, (ordinality - 1)::text
                           from jsonb_array_elements(p -> v_key) with ordinality loop
        v := v || private.input_schema_problems(v_val, format('%s[%s]', v_where, v_name), p_depth + 1);
      end loop;
    end if;
  end loop;
  for v_pair in select value from jsonb_array_elements(v_limits -> 'bound_pairs') loop
    if jsonb_typeof(p -> (v_pair ->> 0)) = 'number' and jsonb_typeof(p -> (v_pair ->> 1)) = 'number'
       and (p ->> (v_pair ->> 0))::numeric > (p ->> (v_pair ->> 1))::numeric then
      v := v || format('%s: %s is more than %s, so no value can match', p_at, v_pair ->> 0, v_pair ->> 1);
    end if;
  end loop;
  if p -> 'additionalProperties' = 'false'::jsonb and jsonb_typeof(p -> 'required') = 'array' then
    for v_name in select e #>> '{}' from jsonb_array_elements(p -> 'required') e
                  where jsonb_typeof(e) = 'string' loop
      if not coalesce(p -> 'properties', '{}') ? v_name then
        v := v || format('%s.required names "%s", which is not in properties while '
          'additionalProperties is false, so no value can match', p_at, v_name);
      end if;
    end loop;
  end if;
  return v;
end $$;

comment on function private.input_schema_problems(jsonb, text, int) is
  'Why an HTTP tool''s input_schema (or one of its nested schemas) is unusable; empty when fine.';

-- Schemas in an input_schema, the top one included (bounded by input_schema_limits.schemas).
create or replace function private.input_schema_size(p jsonb) returns int
language sql immutable set search_path = '' as $$
  select case when jsonb_typeof(p) is distinct from 'object' then 0 else 1
    + coalesce((select sum(private.input_schema_size(value))::int from jsonb_each(
        case when jsonb_typeof(p -> 'properties') = 'object' then p -> 'properties' else '{}' end)), 0)
    + private.input_schema_size(p -> 'items')
    + private.input_schema_size(p -> 'additionalProperties')
    + coalesce((select sum(private.input_schema_size(b))::int
        from jsonb_array_elements(case when jsonb_typeof(p -> 'anyOf') = 'array' then p -> 'anyOf' else '[]' end
          || case when jsonb_typeof(p -> 'oneOf') = 'array' then p -> 'oneOf' else '[]' end) b), 0) end
$$;

comment on function private.input_schema_size(jsonb) is
  'How many schemas an input_schema holds, nested ones and anyOf/oneOf choices included.';

-- Why a regex can't be an argument pattern: too long, a construct linear-time matching lacks, or
-- not a regex at all. The function compiles with RE2JS; here Postgres' own engine tells.
create or replace function private.pattern_problem(p text) returns text
language plpgsql immutable set search_path = '' as $$
declare
  v_limit int := (private.input_schema_limits() ->> 'patternChars')::int;
begin
  if length(p) > v_limit then
    return format('is longer than %s characters', v_limit);
  end if;
  if p ~ private.unsupported_regex_pattern() then
    return 'uses a back-reference or look-around, which linear-time matching does not support';
  end if;
  perform '' ~ p;
  return null;
exception when invalid_regular_expression then
  return format('is not a valid regular expression (%s)', sqlerrm);
end $$;

comment on function private.pattern_problem(text) is
  'Why a regex can''t be used as an input_schema pattern; null when it can.';

create or replace function private.http_tool_definition_problems(p jsonb) returns text[]
language plpgsql immutable set search_path = '' as $$
declare
  v text[] := private.json_schema_problems(p, private.http_definition_schema(), '');
  v_arg text := private.argument_name_pattern();
  v_props jsonb;
  v_required jsonb;
  v_key text;
  v_val jsonb;
  v_used jsonb := '{}';
  v_uses text[][] := '{}';
  v_name text;
  v_where text;
  i int;
begin
  -- Cross-field rules need a well-formed definition (as in the function, which parses first).
  if cardinality(v) > 0 then
    return v;
  end if;

  -- input_schema: an object schema whose properties are the tool's arguments.
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
  v := v || private.input_schema_problems(p -> 'input_schema', 'input_schema', 0);
  if private.input_schema_size(p -> 'input_schema')
     > (private.input_schema_limits() ->> 'schemas')::int then
    v := v || format('input_schema has more than %s schemas', private.input_schema_limits() ->> 'schemas');
  end if;

  if regexp_replace(p ->> 'path', '\{[^{}]*\}', '', 'g') ~ '[{}]' then
    v := v || 'path has an unbalanced { or }'::text;
  end if;

  -- Where each argument goes: path placeholders, query, body, headers. Each exactly once.
  for v_name in select m[1] from regexp_matches(p ->> 'path', '\{([^{}]*)\}', 'g') m loop
    if v_name !~ v_arg then
      v := v || format('path placeholder {%s} is not an argument name', v_name);
    else
      v_uses := v_uses || array[[v_name, 'path']];
    end if;
  end loop;
  foreach v_where in array array['query', 'body'] loop
    for v_val in select value from jsonb_array_elements(coalesce(p -> v_where, '[]')) loop
      v_uses := v_uses || array[[v_val #>> '{}', v_where]];
    end loop;
  end loop;
  for v_key, v_val in select key, value from jsonb_each(coalesce(p -> 'headers', '{}')) loop
    if lower(v_key) = any (private.reserved_headers()) then
      v := v || format('header "%s" can''t be set from an argument', v_key);
    end if;
    v_uses := v_uses || array[[v_val #>> '{}', 'header ' || v_key]];
  end loop;

  for i in 1 .. coalesce(array_length(v_uses, 1), 0) loop
    v_name := v_uses[i][1];
    v_where := v_uses[i][2];
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
  if p ->> 'method' in ('GET', 'HEAD') and jsonb_array_length(coalesce(p -> 'body', '[]')) > 0 then
    v := v || format('a %s request can''t have body arguments; use query instead', p ->> 'method');
  end if;
  return v;
end $$;

comment on function private.http_tool_definition_problems(jsonb) is
  'Why an HTTP tool definition is unusable, one message per problem; empty when it is fine.';

create or replace function private.tool_catalog_check_http_definition() returns trigger
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
  v_problems := private.http_tool_definition_problems(new.definition);
  if cardinality(v_problems) > 0 then
    raise exception 'HTTP tool "%" has an invalid definition: %', new.name,
      array_to_string(v_problems, '; ')
      using errcode = 'check_violation',
            hint = 'Fix the definition and save again; see README, "HTTP API tools".';
  end if;
  return new;
end $$;

comment on function private.tool_catalog_check_http_definition() is
  'Trigger: refuses an HTTP tool whose definition is unusable, naming each problem.';

create trigger tool_catalog_check_http_definition
before insert or update on public.tool_catalog
for each row execute function private.tool_catalog_check_http_definition();

grant execute on function private.http_tool_definition_problems(jsonb) to service_role;
grant execute on function private.input_schema_problems(jsonb, text, int),
  private.input_schema_size(jsonb), private.pattern_problem(text) to service_role;
