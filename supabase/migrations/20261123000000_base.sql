-- Schemas, extensions and default privileges, set once for every later migration.
-- Runs the same on hosted Supabase and on the local stack (where scripts/sql/supabase_platform.sql
-- plays the part of Supabase's pre-installed roles and schemas).
--
-- public holds the tables admins edit in the dashboard and the RPC surface PostgREST exposes
-- (each RPC granted to service_role by name, in the migration of its domain); private holds every
-- internal helper and trigger function, and the tenants' secrets. PostgREST exposes public only.

-- Extensions first: their functions keep their own default privileges.
create extension if not exists pgcrypto with schema extensions;
create extension if not exists pg_trgm with schema extensions;

create schema if not exists private;
comment on schema private is
  'Internal tables and functions of the MCP tools server. Not exposed through the API.';
revoke all on schema private from public, anon, authenticated;
-- The public RPCs run as their caller (service_role) and call helpers here.
grant usage on schema private to service_role;

-- Nothing created from here on is reachable by the API roles unless granted by name:
-- no function is executable by PUBLIC (the global default), and Supabase's per-schema grants to
-- anon and authenticated are taken back. service_role keeps its table grants in public
-- (Supabase's default; it bypasses RLS) but no function, until a migration grants it one.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated, service_role;
alter default privileges in schema private revoke all on functions from public;

-- Keeps updated_at honest for admins editing rows in the dashboard.
create or replace function private.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end $$;

comment on function private.touch_updated_at() is 'Trigger: sets updated_at on every change.';
