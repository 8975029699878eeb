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
  if p ->> 'method' = 'GET' and jsonb_array_length(coalesce(p -> 'body', '[]')) > 0 then
    v := v || 'a GET request can''t have body arguments; use query instead'::text;
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
