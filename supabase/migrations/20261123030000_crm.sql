-- CRM records kept per tenant: companies, contacts, deals, and notes on any of them.
-- The crm_read / crm_write tools reach these tables only through the crm_* functions below, each
-- taking the tenant id as its first argument, so every query is scoped to one tenant in one place.
-- Composite foreign keys (tenant_id, <record>_id) make a link to another tenant's record
-- impossible, whoever writes the row.

do $$
begin
  create type public.crm_deal_stage as enum (
    'lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost'
  );
exception when duplicate_object then null;
end $$;

comment on type public.crm_deal_stage is
  'Pipeline stage of a deal: lead, qualified, proposal, negotiation (open); won, lost (closed).';

-- Companies ---------------------------------------------------------------------------------------

create table public.crm_companies (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null,
  domain text,
  industry text,
  employee_count integer,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search_text text generated always as (
    lower(name || ' ' || coalesce(domain, '') || ' ' || coalesce(industry, ''))
  ) stored,
  constraint crm_companies_tenant_id_id_key unique (tenant_id, id),
  constraint crm_companies_name_length check (length(btrim(name)) between 1 and 200),
  constraint crm_companies_domain_format check (
    length(domain) <= 253
    and domain ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'
  ),
  constraint crm_companies_industry_length check (length(btrim(industry)) between 1 and 100),
  constraint crm_companies_employee_count_range check (employee_count between 0 and 10000000)
);

comment on table public.crm_companies is
  'CRM companies (accounts) of each tenant. Archived rows are kept but hidden from searches.';
comment on column public.crm_companies.id is 'Generated. Contacts, deals and notes refer to it.';
comment on column public.crm_companies.tenant_id is 'The tenant that owns this company.';
comment on column public.crm_companies.name is 'Company name, 1-200 characters.';
comment on column public.crm_companies.domain is
  'Optional web domain in lowercase, e.g. acme.com. Unique per tenant.';
comment on column public.crm_companies.industry is 'Optional industry, e.g. Manufacturing.';
comment on column public.crm_companies.employee_count is 'Optional head count, 0 or more.';
comment on column public.crm_companies.archived_at is
  'Set to archive the company (hidden from searches, kept for history). Clear it to restore.';
comment on column public.crm_companies.created_at is 'Set when the company is created.';
comment on column public.crm_companies.updated_at is 'Set automatically on every change.';
comment on column public.crm_companies.search_text is
  'Generated from name, domain and industry for text search. Not editable.';
comment on constraint crm_companies_domain_format on public.crm_companies is
  'A domain is a lowercase host name such as acme.com (no scheme, path or capitals).';

create unique index crm_companies_domain_key on public.crm_companies (tenant_id, domain);
create index crm_companies_tenant_recent_idx
  on public.crm_companies (tenant_id, created_at desc, id desc);
create index crm_companies_tenant_industry_idx
  on public.crm_companies (tenant_id, lower(industry));
create index crm_companies_search_idx
  on public.crm_companies using gin (search_text extensions.gin_trgm_ops);

-- Contacts ----------------------------------------------------------------------------------------

create table public.crm_contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null,
  email text,
  phone text,
  title text,
  company_id uuid,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search_text text generated always as (
    lower(
      name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' ||
      coalesce(title, '')
    )
  ) stored,
  constraint crm_contacts_tenant_id_id_key unique (tenant_id, id),
  constraint crm_contacts_company_fk foreign key (tenant_id, company_id)
    references public.crm_companies (tenant_id, id) on delete set null (company_id),
  constraint crm_contacts_name_length check (length(btrim(name)) between 1 and 200),
  constraint crm_contacts_email_format check (
    length(email) <= 254 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
  ),
  constraint crm_contacts_phone_format check (phone ~ '^[0-9+() .x-]{3,40}$' and phone ~ '[0-9]'),
  constraint crm_contacts_title_length check (length(btrim(title)) between 1 and 200)
);

comment on table public.crm_contacts is
  'CRM contacts (people) of each tenant, optionally at one of its companies.';
comment on column public.crm_contacts.id is 'Generated. Deals and notes refer to it.';
comment on column public.crm_contacts.tenant_id is 'The tenant that owns this contact.';
comment on column public.crm_contacts.name is 'Full name, 1-200 characters.';
comment on column public.crm_contacts.email is
  'Optional email address. Unique per tenant, ignoring case.';
comment on column public.crm_contacts.phone is
  'Optional phone number: digits, spaces and + ( ) . - x, e.g. +1 555 0100.';
comment on column public.crm_contacts.title is 'Optional job title, e.g. Head of Purchasing.';
comment on column public.crm_contacts.company_id is
  'Optional company the contact works at; must be a company of the same tenant.';
comment on column public.crm_contacts.archived_at is
  'Set to archive the contact (hidden from searches, kept for history). Clear it to restore.';
comment on column public.crm_contacts.created_at is 'Set when the contact is created.';
comment on column public.crm_contacts.updated_at is 'Set automatically on every change.';
comment on column public.crm_contacts.search_text is
  'Generated from name, email, phone and title for text search. Not editable.';
comment on constraint crm_contacts_company_fk on public.crm_contacts is
  'A contact can only point at a company of its own tenant.';

create unique index crm_contacts_email_key on public.crm_contacts (tenant_id, lower(email));
create index crm_contacts_tenant_recent_idx
  on public.crm_contacts (tenant_id, created_at desc, id desc);
create index crm_contacts_company_idx on public.crm_contacts (tenant_id, company_id);
create index crm_contacts_search_idx
  on public.crm_contacts using gin (search_text extensions.gin_trgm_ops);

-- Deals -------------------------------------------------------------------------------------------

create table public.crm_deals (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null,
  stage public.crm_deal_stage not null default 'lead',
  amount numeric(14, 2),
  currency text not null default 'USD',
  close_date date,
  company_id uuid,
  contact_id uuid,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search_text text generated always as (lower(title)) stored,
  constraint crm_deals_tenant_id_id_key unique (tenant_id, id),
  constraint crm_deals_company_fk foreign key (tenant_id, company_id)
    references public.crm_companies (tenant_id, id) on delete set null (company_id),
  constraint crm_deals_contact_fk foreign key (tenant_id, contact_id)
    references public.crm_contacts (tenant_id, id) on delete set null (contact_id),
  constraint crm_deals_title_length check (length(btrim(title)) between 1 and 200),
  constraint crm_deals_amount_not_negative check (amount >= 0),
  constraint crm_deals_currency_format check (currency ~ '^[A-Z]{3}$')
);

comment on table public.crm_deals is
  'CRM deals (opportunities) of each tenant, optionally with a company and a contact.';
comment on column public.crm_deals.id is 'Generated. Notes refer to it.';
comment on column public.crm_deals.tenant_id is 'The tenant that owns this deal.';
comment on column public.crm_deals.title is 'What is being sold, 1-200 characters.';
comment on column public.crm_deals.stage is
  'Pipeline stage: lead, qualified, proposal, negotiation, won or lost.';
comment on column public.crm_deals.amount is
  'Optional expected value, 0 or more, with up to 2 decimals, in the deal''s currency.';
comment on column public.crm_deals.currency is
  'ISO 4217 currency code in capitals, e.g. USD, EUR. Defaults to USD.';
comment on column public.crm_deals.close_date is 'Optional expected (or actual) closing date.';
comment on column public.crm_deals.company_id is
  'Optional company the deal is with; must be a company of the same tenant.';
comment on column public.crm_deals.contact_id is
  'Optional main contact for the deal; must be a contact of the same tenant.';
comment on column public.crm_deals.archived_at is
  'Set to archive the deal (hidden from searches, kept for history). Clear it to restore.';
comment on column public.crm_deals.created_at is 'Set when the deal is created.';
comment on column public.crm_deals.updated_at is 'Set automatically on every change.';
comment on column public.crm_deals.search_text is
  'Generated from the title for text search. Not editable.';
comment on constraint crm_deals_company_fk on public.crm_deals is
  'A deal can only point at a company of its own tenant.';
comment on constraint crm_deals_contact_fk on public.crm_deals is
  'A deal can only point at a contact of its own tenant.';

create index crm_deals_tenant_recent_idx on public.crm_deals (tenant_id, created_at desc, id desc);
create index crm_deals_company_idx on public.crm_deals (tenant_id, company_id);
create index crm_deals_contact_idx on public.crm_deals (tenant_id, contact_id);
create index crm_deals_stage_idx on public.crm_deals (tenant_id, stage);
create index crm_deals_search_idx
  on public.crm_deals using gin (search_text extensions.gin_trgm_ops);

-- Notes -------------------------------------------------------------------------------------------

create table public.crm_notes (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  body text not null,
  company_id uuid,
  contact_id uuid,
  deal_id uuid,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search_text text generated always as (lower(body)) stored,
  constraint crm_notes_company_fk foreign key (tenant_id, company_id)
    references public.crm_companies (tenant_id, id) on delete cascade,
  constraint crm_notes_contact_fk foreign key (tenant_id, contact_id)
    references public.crm_contacts (tenant_id, id) on delete cascade,
  constraint crm_notes_deal_fk foreign key (tenant_id, deal_id)
    references public.crm_deals (tenant_id, id) on delete cascade,
  constraint crm_notes_attached_to_one_record
    check (num_nonnulls(company_id, contact_id, deal_id) = 1),
  constraint crm_notes_body_length check (length(btrim(body)) between 1 and 20000)
);

comment on table public.crm_notes is
  'Free-text notes of each tenant, each attached to exactly one company, contact or deal.';
comment on column public.crm_notes.id is 'Generated.';
comment on column public.crm_notes.tenant_id is 'The tenant that owns this note.';
comment on column public.crm_notes.body is 'The note text, 1-20000 characters.';
comment on column public.crm_notes.company_id is
  'The company the note is about. Set exactly one of company_id, contact_id, deal_id.';
comment on column public.crm_notes.contact_id is
  'The contact the note is about. Set exactly one of company_id, contact_id, deal_id.';
comment on column public.crm_notes.deal_id is
  'The deal the note is about. Set exactly one of company_id, contact_id, deal_id.';
comment on column public.crm_notes.archived_at is
  'Set to archive the note (hidden from searches, kept for history). Clear it to restore.';
comment on column public.crm_notes.created_at is 'Set when the note is written.';
comment on column public.crm_notes.updated_at is 'Set automatically on every change.';
comment on column public.crm_notes.search_text is
  'Generated from the body for text search. Not editable.';
comment on constraint crm_notes_attached_to_one_record on public.crm_notes is
  'Each note is about exactly one record: set one of company_id, contact_id, deal_id.';

create index crm_notes_tenant_recent_idx on public.crm_notes (tenant_id, created_at desc, id desc);
create index crm_notes_company_idx
  on public.crm_notes (tenant_id, company_id, created_at desc) where company_id is not null;
create index crm_notes_contact_idx
  on public.crm_notes (tenant_id, contact_id, created_at desc) where contact_id is not null;
create index crm_notes_deal_idx
  on public.crm_notes (tenant_id, deal_id, created_at desc) where deal_id is not null;
create index crm_notes_search_idx
  on public.crm_notes using gin (search_text extensions.gin_trgm_ops);

-- Triggers ----------------------------------------------------------------------------------------

create trigger crm_companies_touch_updated_at before update on public.crm_companies
for each row execute function private.touch_updated_at();
create trigger crm_contacts_touch_updated_at before update on public.crm_contacts
for each row execute function private.touch_updated_at();
create trigger crm_deals_touch_updated_at before update on public.crm_deals
for each row execute function private.touch_updated_at();
create trigger crm_notes_touch_updated_at before update on public.crm_notes
for each row execute function private.touch_updated_at();

-- Links are checked before the foreign keys so that a bad link is refused with a sentence rather
-- than a constraint name: "No company with id … in this tenant", "company … is archived".
-- Notes may be written about archived records; contacts and deals may not be newly linked to one.
-- SQLSTATE class CR: errors meant to be shown to whoever made the change (see crm_* below).
create or replace function private.crm_check_links() returns trigger
language plpgsql set search_path = '' as $$
declare
  v_new jsonb := to_jsonb(new);
  v_old jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) else '{}'::jsonb end;
  v_link record;
  v_found boolean;
  v_archived timestamptz;
begin
  for v_link in
    select * from (values
      ('company_id', 'company', 'crm_companies'),
      ('contact_id', 'contact', 'crm_contacts'),
      ('deal_id', 'deal', 'crm_deals')
    ) as l (col, entity, tbl)
    where v_new ? l.col
      and v_new ->> l.col is not null
      and (v_new ->> l.col is distinct from v_old ->> l.col
        or v_new ->> 'tenant_id' is distinct from v_old ->> 'tenant_id')
  loop
    execute format(
      'select true, archived_at from public.%I where tenant_id = $1 and id = $2', v_link.tbl
    ) into v_found, v_archived using new.tenant_id, (v_new ->> v_link.col)::uuid;
    if v_found is null then
      raise exception using errcode = 'CR422',
        message = format('No %s with id %s in this tenant (%s).',
          v_link.entity, v_new ->> v_link.col, v_link.col);
    end if;
    if v_archived is not null and tg_table_name <> 'crm_notes' then
      raise exception using errcode = 'CR422',
        message = format('The %s %s is archived, so nothing new can be linked to it (%s). '
          'Restore it first, or pick another %s.',
          v_link.entity, v_new ->> v_link.col, v_link.col, v_link.entity);
    end if;
  end loop;
  return new;
end $$;

create trigger crm_contacts_check_links before insert or update on public.crm_contacts
for each row execute function private.crm_check_links();
create trigger crm_deals_check_links before insert or update on public.crm_deals
for each row execute function private.crm_check_links();
create trigger crm_notes_check_links before insert or update on public.crm_notes
for each row execute function private.crm_check_links();

-- Nothing here is for browsers: RLS on with no policies, and no grants to the API roles (see the
-- base migration's default privileges).
alter table public.crm_companies enable row level security;
alter table public.crm_contacts enable row level security;
alter table public.crm_deals enable row level security;
alter table public.crm_notes enable row level security;

-- The data access of the crm tools --------------------------------------------------------------
-- Security invoker: they run with the caller's rights, and only service_role may call them.
-- Helpers live in private.
-- Entities are named company | contact | deal | note; records come back as JSON objects without
-- tenant_id and search_text.

create or replace function private.crm_table(p_entity text) returns text
language plpgsql immutable set search_path = '' as $$
begin
  case p_entity
    when 'company' then return 'crm_companies';
    when 'contact' then return 'crm_contacts';
    when 'deal' then return 'crm_deals';
    when 'note' then return 'crm_notes';
    else
      raise exception using errcode = 'CR400',
        message = format('Unknown entity "%s": use company, contact, deal or note.', p_entity);
  end case;
end $$;

-- One record of the tenant as JSON, or a CR404 naming the entity and id.
create or replace function private.crm_record(p_tenant_id uuid, p_entity text, p_id uuid)
returns jsonb
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_record jsonb;
begin
  execute format(
    'select to_jsonb(r) - ''tenant_id'' - ''search_text'' from public.%I r
     where r.tenant_id = $1 and r.id = $2',
    private.crm_table(p_entity)
  ) into v_record using p_tenant_id, p_id;
  if v_record is null then
    raise exception using errcode = 'CR404',
      message = format('No %s with id %s. Search with crm_read (entity "%s") to find its id.',
        p_entity, p_id, p_entity);
  end if;
  return v_record;
end $$;

-- Get one record, with its five newest notes (not for notes themselves).
create or replace function public.crm_get(p_tenant_id uuid, p_entity text, p_id uuid)
returns jsonb
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_record jsonb := private.crm_record(p_tenant_id, p_entity, p_id);
  v_notes jsonb;
begin
  if p_entity = 'note' then
    return jsonb_build_object('record', v_record);
  end if;
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(n) - ''tenant_id'' - ''search_text''
       order by n.created_at desc, n.id desc), ''[]'')
     from (select * from public.crm_notes n
       where n.tenant_id = $1 and n.%I = $2 and n.archived_at is null
       order by n.created_at desc, n.id desc limit 5) n',
    p_entity || '_id'
  ) into v_notes using p_tenant_id, p_id;
  return jsonb_build_object('record', v_record, 'recent_notes', v_notes);
end $$;

-- Search one entity, newest first, with keyset pagination on (created_at, id).
-- p_filters keys: include_archived (all), industry (company), company_id (contact, deal, note),
-- contact_id (deal, note), deal_id (note), stages (deal; a JSON array of stages).
-- Returns { items: [...], next: { created_at, id } | null }.
create or replace function public.crm_search(
  p_tenant_id uuid,
  p_entity text,
  p_query text default null,
  p_filters jsonb default '{}',
  p_limit integer default 20,
  p_after_created_at timestamptz default null,
  p_after_id uuid default null
) returns jsonb
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_table text := private.crm_table(p_entity);
  v_filters jsonb := coalesce(p_filters, '{}');
  v_allowed text[] := case p_entity
    when 'company' then array['include_archived', 'industry']
    when 'contact' then array['include_archived', 'company_id']
    when 'deal' then array['include_archived', 'company_id', 'contact_id', 'stages']
    else array['include_archived', 'company_id', 'contact_id', 'deal_id']
  end;
  v_key text;
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_pattern text;
  v_sql text := 'select to_jsonb(r) - ''tenant_id'' - ''search_text'' as j, r.created_at, r.id
    from public.' || quote_ident(v_table) || ' r where r.tenant_id = $1';
  v_rows jsonb;
  v_last jsonb;
begin
  for v_key in select jsonb_object_keys(v_filters) loop
    if not v_key = any (v_allowed) then
      raise exception using errcode = 'CR400',
        message = format('The filter "%s" does not apply to %s records; filters for %s: %s.',
          v_key, p_entity, p_entity, array_to_string(v_allowed, ', '));
    end if;
  end loop;

  -- Only the conditions in use go into the statement, so each search is planned for itself.
  if not coalesce((v_filters ->> 'include_archived')::boolean, false) then
    v_sql := v_sql || ' and r.archived_at is null';
  end if;
  if nullif(btrim(p_query), '') is not null then
    v_pattern := '%' || replace(replace(replace(lower(btrim(p_query)), '\', '\\'), '%', '\%'),
      '_', '\_') || '%';
    v_sql := v_sql || ' and r.search_text like $2';
  end if;
  if v_filters ? 'industry' then
    v_sql := v_sql || ' and lower(r.industry) = lower($3 ->> ''industry'')';
  end if;
  foreach v_key in array array['company_id', 'contact_id', 'deal_id'] loop
    if v_filters ? v_key then
      v_sql := v_sql || format(' and r.%I = ($3 ->> %L)::uuid', v_key, v_key);
    end if;
  end loop;
  if v_filters ? 'stages' then
    v_sql := v_sql || ' and r.stage = any (array(
      select jsonb_array_elements_text($3 -> ''stages''))::public.crm_deal_stage[])';
  end if;
  if p_after_created_at is not null and p_after_id is not null then
    v_sql := v_sql || ' and (r.created_at, r.id) < ($4, $5)';
  end if;
  v_sql := v_sql || ' order by r.created_at desc, r.id desc limit $6';

  execute format('select coalesce(jsonb_agg(to_jsonb(page)), ''[]'') from (%s) page', v_sql)
    into v_rows
    using p_tenant_id, v_pattern, v_filters, p_after_created_at, p_after_id, v_limit + 1;

  if jsonb_array_length(v_rows) > v_limit then
    v_last := v_rows -> (v_limit - 1);
    return jsonb_build_object(
      'items', (select jsonb_agg(e -> 'j' order by i) from jsonb_array_elements(v_rows)
        with ordinality as x (e, i) where i <= v_limit),
      'next', jsonb_build_object('created_at', v_last -> 'created_at', 'id', v_last -> 'id')
    );
  end if;
  return jsonb_build_object(
    'items', (select coalesce(jsonb_agg(e -> 'j' order by i), '[]')
      from jsonb_array_elements(v_rows) with ordinality as x (e, i)),
    'next', null
  );
end $$;

-- A unique violation as a sentence naming the record that already holds the value.
create or replace function private.crm_duplicate_message(
  p_tenant_id uuid,
  p_constraint text,
  p_fields jsonb
) returns text
language plpgsql stable security invoker set search_path = '' as $$
declare
  v_id uuid;
  v_archived timestamptz;
begin
  if p_constraint = 'crm_contacts_email_key' then
    select id, archived_at into v_id, v_archived from public.crm_contacts
    where tenant_id = p_tenant_id and lower(email) = lower(p_fields ->> 'email');
    return format('A contact with email %s already exists (id %s%s). Update that contact '
      'instead, or use another email.', p_fields ->> 'email', v_id,
      case when v_archived is not null then ', archived: restore it first' else '' end);
  elsif p_constraint = 'crm_companies_domain_key' then
    select id, archived_at into v_id, v_archived from public.crm_companies
    where tenant_id = p_tenant_id and domain = p_fields ->> 'domain';
    return format('A company with domain %s already exists (id %s%s). Update that company '
      'instead, or use another domain.', p_fields ->> 'domain', v_id,
      case when v_archived is not null then ', archived: restore it first' else '' end);
  end if;
  return format('This would duplicate an existing record (%s).', p_constraint);
end $$;

-- Create a company, contact or deal from a JSON object of its fields; returns the record.
create or replace function public.crm_create(p_tenant_id uuid, p_entity text, p_fields jsonb)
returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_id uuid;
  v_constraint text;
begin
  case p_entity
    when 'company' then
      insert into public.crm_companies (tenant_id, name, domain, industry, employee_count)
      values (
        p_tenant_id, p_fields ->> 'name', p_fields ->> 'domain', p_fields ->> 'industry',
        (p_fields ->> 'employee_count')::integer
      ) returning id into v_id;
    when 'contact' then
      insert into public.crm_contacts (tenant_id, name, email, phone, title, company_id)
      values (
        p_tenant_id, p_fields ->> 'name', p_fields ->> 'email', p_fields ->> 'phone',
        p_fields ->> 'title', (p_fields ->> 'company_id')::uuid
      ) returning id into v_id;
    when 'deal' then
      insert into public.crm_deals (
        tenant_id, title, stage, amount, currency, close_date, company_id, contact_id
      ) values (
        p_tenant_id, p_fields ->> 'title',
        coalesce((p_fields ->> 'stage')::public.crm_deal_stage, 'lead'),
        (p_fields ->> 'amount')::numeric, coalesce(p_fields ->> 'currency', 'USD'),
        (p_fields ->> 'close_date')::date, (p_fields ->> 'company_id')::uuid,
        (p_fields ->> 'contact_id')::uuid
      ) returning id into v_id;
    else
      raise exception using errcode = 'CR400', message = format(
        'Records of entity "%s" cannot be created this way: create a company, contact or deal; '
        'notes are added with add_note.', p_entity);
  end case;
  return private.crm_record(p_tenant_id, p_entity, v_id);
exception when unique_violation then
  get stacked diagnostics v_constraint = constraint_name;
  raise exception using errcode = 'CR409',
    message = private.crm_duplicate_message(p_tenant_id, v_constraint, p_fields);
end $$;

-- Change the given fields of an active record (a key present with null clears the field).
create or replace function public.crm_update(
  p_tenant_id uuid,
  p_entity text,
  p_id uuid,
  p_fields jsonb
) returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_current jsonb := private.crm_record(p_tenant_id, p_entity, p_id);
  v_constraint text;
begin
  if v_current ->> 'archived_at' is not null then
    raise exception using errcode = 'CR422', message = format(
      'The %s %s is archived. Restore it before changing it.', p_entity, p_id);
  end if;
  case p_entity
    when 'company' then
      update public.crm_companies set
        name = case when p_fields ? 'name' then p_fields ->> 'name' else name end,
        domain = case when p_fields ? 'domain' then p_fields ->> 'domain' else domain end,
        industry = case when p_fields ? 'industry' then p_fields ->> 'industry' else industry end,
        employee_count = case when p_fields ? 'employee_count'
          then (p_fields ->> 'employee_count')::integer else employee_count end
      where tenant_id = p_tenant_id and id = p_id;
    when 'contact' then
      update public.crm_contacts set
        name = case when p_fields ? 'name' then p_fields ->> 'name' else name end,
        email = case when p_fields ? 'email' then p_fields ->> 'email' else email end,
        phone = case when p_fields ? 'phone' then p_fields ->> 'phone' else phone end,
        title = case when p_fields ? 'title' then p_fields ->> 'title' else title end,
        company_id = case when p_fields ? 'company_id'
          then (p_fields ->> 'company_id')::uuid else company_id end
      where tenant_id = p_tenant_id and id = p_id;
    when 'deal' then
      update public.crm_deals set
        title = case when p_fields ? 'title' then p_fields ->> 'title' else title end,
        stage = case when p_fields ? 'stage'
          then (p_fields ->> 'stage')::public.crm_deal_stage else stage end,
        amount = case when p_fields ? 'amount'
          then (p_fields ->> 'amount')::numeric else amount end,
        currency = case when p_fields ? 'currency'
          then p_fields ->> 'currency' else currency end,
        close_date = case when p_fields ? 'close_date'
          then (p_fields ->> 'close_date')::date else close_date end,
        company_id = case when p_fields ? 'company_id'
          then (p_fields ->> 'company_id')::uuid else company_id end,
        contact_id = case when p_fields ? 'contact_id'
          then (p_fields ->> 'contact_id')::uuid else contact_id end
      where tenant_id = p_tenant_id and id = p_id;
    else
      raise exception using errcode = 'CR400', message = format(
        'Records of entity "%s" cannot be updated: notes are kept as written (archive one and '
        'add another instead).', p_entity);
  end case;
  return private.crm_record(p_tenant_id, p_entity, p_id);
exception when unique_violation then
  get stacked diagnostics v_constraint = constraint_name;
  raise exception using errcode = 'CR409',
    message = private.crm_duplicate_message(p_tenant_id, v_constraint, p_fields);
end $$;

-- Archive (p_archived) or restore a record. Archiving twice keeps the first archived_at.
create or replace function public.crm_set_archived(
  p_tenant_id uuid,
  p_entity text,
  p_id uuid,
  p_archived boolean
) returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
begin
  execute format(
    'update public.%I set archived_at = case when $3 then coalesce(archived_at, now()) end
     where tenant_id = $1 and id = $2',
    private.crm_table(p_entity)
  ) using p_tenant_id, p_id, p_archived;
  -- No row updated: this names the entity and id as not found.
  return private.crm_record(p_tenant_id, p_entity, p_id);
end $$;

-- Add a note about a company, contact or deal; returns the note.
create or replace function public.crm_add_note(
  p_tenant_id uuid,
  p_entity text,
  p_id uuid,
  p_body text
) returns jsonb
language plpgsql volatile security invoker set search_path = '' as $$
declare
  v_id uuid;
begin
  if p_entity not in ('company', 'contact', 'deal') then
    raise exception using errcode = 'CR400', message = format(
      'Notes are added to a company, contact or deal, not to a %s.', p_entity);
  end if;
  -- Looked up first so that a missing record reads like every other not-found answer.
  perform private.crm_record(p_tenant_id, p_entity, p_id);
  insert into public.crm_notes (tenant_id, body, company_id, contact_id, deal_id)
  values (
    p_tenant_id, p_body,
    case when p_entity = 'company' then p_id end,
    case when p_entity = 'contact' then p_id end,
    case when p_entity = 'deal' then p_id end
  ) returning id into v_id;
  return private.crm_record(p_tenant_id, 'note', v_id);
end $$;

comment on function public.crm_get(uuid, text, uuid) is
  'crm_read: one record of the tenant with its newest notes. service_role only.';
comment on function public.crm_search(uuid, text, text, jsonb, integer, timestamptz, uuid) is
  'crm_read: search one entity of the tenant, newest first, keyset-paginated. service_role only.';
comment on function public.crm_create(uuid, text, jsonb) is
  'crm_write: create a company, contact or deal for the tenant. service_role only.';
comment on function public.crm_update(uuid, text, uuid, jsonb) is
  'crm_write: change fields of an active record of the tenant. service_role only.';
comment on function public.crm_set_archived(uuid, text, uuid, boolean) is
  'crm_write: archive or restore a record of the tenant. service_role only.';
comment on function public.crm_add_note(uuid, text, uuid, text) is
  'crm_write: add a note to a company, contact or deal of the tenant. service_role only.';

comment on function private.crm_check_links() is
  'Trigger: refuses a link to a missing or archived record of the tenant, in words.';
comment on function private.crm_table(text) is 'The table of a CRM entity, or a CR400 naming it.';
comment on function private.crm_record(uuid, text, uuid) is
  'One record of the tenant as JSON, or a CR404 naming the entity and id.';
comment on function private.crm_duplicate_message(uuid, text, jsonb) is
  'A unique violation as a sentence naming the record that already holds the value.';

grant execute on function
  private.crm_table(text),
  private.crm_record(uuid, text, uuid),
  private.crm_duplicate_message(uuid, text, jsonb)
to service_role;

grant execute on function
  public.crm_get(uuid, text, uuid),
  public.crm_search(uuid, text, text, jsonb, integer, timestamptz, uuid),
  public.crm_create(uuid, text, jsonb),
  public.crm_update(uuid, text, uuid, jsonb),
  public.crm_set_archived(uuid, text, uuid, boolean),
  public.crm_add_note(uuid, text, uuid, text)
to service_role;

-- The family of the crm tools; their rows are generated from the code (code_tools migration).
insert into public.tool_families (family, description) values
  ('crm', 'CRM records of each tenant in this project''s database: companies, contacts, deals and notes.')
on conflict (family) do nothing;
