-- Remote MCP servers a tenant attaches as a tool source: their tools are served beside the
-- catalog's, under the same key, named <prefix><tool>. The credential is a tenant secret (named
-- here, stored by set_tenant_secret), never a column value.

create table public.remote_mcp_servers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  prefix text not null,
  url text not null,
  secret text,
  allowed_tools text[],
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint remote_mcp_servers_prefix_unique unique (tenant_id, prefix),
  constraint remote_mcp_servers_prefix_format check (prefix ~ '^[a-z][a-z0-9]{0,19}_$'),
  constraint remote_mcp_servers_url_format
    check (url ~ '^https?://[^/?#@[:space:]]+(/[^?#[:space:]]*)?$'),
  constraint remote_mcp_servers_secret_format
    check (secret is null or secret ~ private.secret_name_pattern()),
  constraint remote_mcp_servers_allowed_tools_not_empty
    check (allowed_tools is null or cardinality(allowed_tools) > 0)
);

create index remote_mcp_servers_tenant_id_idx on public.remote_mcp_servers (tenant_id);

comment on table public.remote_mcp_servers is
  'Remote MCP servers a tenant attaches: their tools are served to that tenant only, beside its '
  'enabled tools, named <prefix><tool name>.';
comment on column public.remote_mcp_servers.id is 'Identifies the attachment (part of the cache key).';
comment on column public.remote_mcp_servers.tenant_id is 'The tenant whose agents get these tools.';
comment on column public.remote_mcp_servers.prefix is
  'Put before each remote tool name, e.g. "docs_": lowercase letters and digits ending in _, '
  'at most 20 characters; unique per tenant.';
comment on column public.remote_mcp_servers.url is
  'The server''s MCP endpoint, e.g. https://mcp.example.com/mcp (no credentials or query). '
  'Reached through the same address policy, timeout and size cap as HTTP tools.';
comment on column public.remote_mcp_servers.secret is
  'The name of a tenant secret (set_tenant_secret) sent as Authorization: Bearer; empty: none.';
comment on column public.remote_mcp_servers.allowed_tools is
  'The remote tool names (without prefix) to serve; empty: all the server lists.';
comment on column public.remote_mcp_servers.enabled is 'Off: its tools are not served.';
comment on column public.remote_mcp_servers.created_at is 'When the server was attached.';
comment on column public.remote_mcp_servers.updated_at is 'Set automatically on every change.';

alter table public.remote_mcp_servers enable row level security;

create trigger remote_mcp_servers_touch_updated_at
before update on public.remote_mcp_servers
for each row execute function private.touch_updated_at();

create or replace function private.remote_server_view(r public.remote_mcp_servers) returns jsonb
language sql stable set search_path = '' as $$
  select jsonb_build_object(
    'id', r.id,
    'tenant', (select t.slug from public.tenants t where t.id = r.tenant_id),
    'prefix', r.prefix,
    'url', r.url,
    'secret', r.secret,
    'allowed_tools', to_jsonb(r.allowed_tools),
    'enabled', r.enabled,
    'version', extract(epoch from r.updated_at)::text)
$$;

comment on function private.remote_server_view(public.remote_mcp_servers) is
  'A remote server attachment as the admin functions and the edge function show it.';

-- The public functions below run as their caller (service_role) and call it.
grant execute on function private.remote_server_view(public.remote_mcp_servers) to service_role;

-- Attaches (or updates, by prefix) a remote server for a tenant.
create or replace function public.attach_remote_server(
  p_tenant_slug text,
  p_prefix text,
  p_url text,
  p_secret text default null,
  p_allowed_tools text[] default null
) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_row public.remote_mcp_servers;
begin
  insert into public.remote_mcp_servers (tenant_id, prefix, url, secret, allowed_tools)
  values (v_tenant.id, p_prefix, p_url, nullif(p_secret, ''), p_allowed_tools)
  on conflict (tenant_id, prefix) do update
  set url = excluded.url, secret = excluded.secret, allowed_tools = excluded.allowed_tools,
      enabled = true
  returning * into v_row;
  return private.remote_server_view(v_row);
end $$;

create or replace function public.detach_remote_server(p_tenant_slug text, p_prefix text)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_tenant public.tenants := private.tenant_by_slug(p_tenant_slug);
  v_row public.remote_mcp_servers;
begin
  delete from public.remote_mcp_servers where tenant_id = v_tenant.id and prefix = p_prefix
  returning * into v_row;
  if v_row.id is null then
    raise exception 'Tenant "%" has no remote server with prefix "%".', p_tenant_slug, p_prefix
      using errcode = 'no_data_found', hint = 'See list_remote_servers for the attached ones.';
  end if;
  return private.remote_server_view(v_row);
end $$;

create or replace function public.list_remote_servers(p_tenant_slug text default null)
returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(private.remote_server_view(r) order by t.slug, r.prefix), '[]'::jsonb)
  from public.remote_mcp_servers r join public.tenants t on t.id = r.tenant_id
  where p_tenant_slug is null or t.slug = p_tenant_slug
$$;

-- The edge function's lookup, by the same key hash as resolve_api_key (asked in parallel).
create or replace function public.resolve_remote_servers(p_key_hash text) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(private.remote_server_view(r) order by r.prefix), '[]'::jsonb)
  from public.api_keys k join public.remote_mcp_servers r on r.tenant_id = k.tenant_id
  where k.key_hash = p_key_hash and r.enabled
$$;

comment on function public.attach_remote_server(text, text, text, text, text[]) is
  'Admin: attaches a remote MCP server to a tenant (or updates the one with this prefix).';
comment on function public.detach_remote_server(text, text) is
  'Admin: removes a tenant''s remote MCP server.';
comment on function public.list_remote_servers(text) is
  'Admin: remote MCP servers of one tenant, or of all.';
comment on function public.resolve_remote_servers(text) is
  'Used by the edge function: the enabled remote servers of the tenant of a key. service_role only.';

grant execute on function
  public.attach_remote_server(text, text, text, text, text[]),
  public.detach_remote_server(text, text),
  public.list_remote_servers(text),
  public.resolve_remote_servers(text)
to service_role;
