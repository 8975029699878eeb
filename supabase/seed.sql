-- Demo data for local development (applied after the migrations on a fresh local database).
-- No API keys here: `deno task dev` issues a fresh demo key and prints it.
insert into public.tenants (slug, name, enabled_tools, config)
values
  ('demo', 'Demo Tenant', '{tenant_info,echo}', '{}'::jsonb),
  ('acme', 'Acme Corp', '{tenant_info}', '{}'::jsonb)
on conflict (slug) do nothing;
