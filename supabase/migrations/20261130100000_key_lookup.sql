-- The key lookup answers everything a first request needs, in one round trip.
--
-- resolve_api_key now also carries the tenant's enabled remote MCP servers (they were asked for
-- in a second, parallel call) and whether any limit applies to the key or its tenant: without one,
-- the function asks no lease of the limiter (lease_usage) until it reads the key again.

create or replace function public.resolve_api_key(p_key_hash text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  v_key public.api_keys;
  v_tenant public.tenants;
begin
  select * into v_key from public.api_keys where key_hash = p_key_hash;
  if not found then
    return null;
  end if;
  select * into v_tenant from public.tenants where id = v_key.tenant_id;

  if v_tenant.status = 'active'
     and (v_key.revoked_at is null or v_key.revoked_at > now())
     and (v_key.expires_at is null or v_key.expires_at > now())
     and (v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute') then
    update public.api_keys set last_used_at = now() where id = v_key.id;
  end if;

  return jsonb_build_object(
    'key_id', v_key.key_id,
    'key_prefix', v_key.display_prefix,
    'expires_at', v_key.expires_at,
    'revoked_at', v_key.revoked_at,
    'allowed_tools', to_jsonb(v_key.allowed_tools),
    'tenant', private.tenant_payload(v_tenant),
    'remote_servers', public.resolve_remote_servers(p_key_hash),
    'limited', num_nonnulls(
      v_key.requests_per_minute, v_key.calls_per_day, v_key.calls_per_month,
      v_tenant.requests_per_minute, v_tenant.calls_per_day, v_tenant.calls_per_month) > 0
  );
end $$;

comment on function public.resolve_api_key(text) is
  'Used by the edge function to authenticate a request: the key, its tenant and enabled tools, the tenant''s remote MCP servers, and whether limits apply. service_role only.';
