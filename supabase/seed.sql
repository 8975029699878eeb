-- Demo data for local development (applied after the migrations on a fresh local database).
-- No API keys here: `deno task dev` issues a fresh demo key and prints it.
insert into public.tenants (slug, name, enabled_tools, config)
values
  ('demo', 'Demo Tenant', '{tenant_info,echo,crm_read,crm_write}', '{}'::jsonb),
  ('acme', 'Acme Corp', '{tenant_info}', '{}'::jsonb)
on conflict (slug) do nothing;

-- A small CRM for the demo tenant, so crm_read has something to find.
do $$
declare
  v_tenant uuid := (select id from public.tenants where slug = 'demo');
  v_globex uuid;
  v_initech uuid;
  v_hank uuid;
  v_peter uuid;
  v_deal uuid;
begin
  if exists (select 1 from public.crm_companies where tenant_id = v_tenant) then
    return;
  end if;
  insert into public.crm_companies (tenant_id, name, domain, industry, employee_count)
  values (v_tenant, 'Globex Corporation', 'globex.example', 'Energy', 1200)
  returning id into v_globex;
  insert into public.crm_companies (tenant_id, name, domain, industry, employee_count)
  values (v_tenant, 'Initech', 'initech.example', 'Software', 250)
  returning id into v_initech;
  insert into public.crm_contacts (tenant_id, name, email, phone, title, company_id)
  values (v_tenant, 'Hank Scorpio', 'hank@globex.example', '+1 555 0100', 'CEO', v_globex)
  returning id into v_hank;
  insert into public.crm_contacts (tenant_id, name, email, title, company_id)
  values (v_tenant, 'Peter Gibbons', 'peter@initech.example', 'Programmer', v_initech)
  returning id into v_peter;
  insert into public.crm_deals (tenant_id, title, stage, amount, currency, close_date, company_id, contact_id)
  values (v_tenant, 'Globex fleet renewal', 'negotiation', 180000, 'USD', current_date + 30, v_globex, v_hank)
  returning id into v_deal;
  insert into public.crm_deals (tenant_id, title, stage, amount, currency, company_id, contact_id)
  values (v_tenant, 'Initech TPS automation', 'qualified', 24000, 'EUR', v_initech, v_peter);
  insert into public.crm_notes (tenant_id, body, deal_id)
  values (v_tenant, 'Hank wants the contract signed before the quarter ends.', v_deal);
  insert into public.crm_notes (tenant_id, body, contact_id)
  values (v_tenant, 'Prefers email; out of office on Fridays.', v_peter);
end $$;
