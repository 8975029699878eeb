/**
 * `deno task admin tools import-openapi` on real OpenAPI documents that npm packages ship: each
 * import is saved through the catalog's checks, listed by the real app for the tenant, and its
 * tools called against a local fake of that API built from the same document.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { loadDocument } from "../../scripts/lib/import_openapi.ts";
import { DOCUMENTS } from "../support/openapi_documents.ts";
import { type OpenApiFake, startOpenApiFake } from "../support/openapi_fake.ts";
import { adminCli } from "../support/admin_cli.ts";
import { inProcessApp, lit } from "../support/fixtures.ts";
import { httpTenant, setSecret } from "../support/http_fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const admin = adminCli;

async function imported(args: string[]): Promise<Any> {
  const run = await admin(["tools", "import-openapi", ...args, "--json"]);
  equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
  return run.json;
}

/** Imports a document for a tenant, its base URL the local fake's. */
const importInto = (file: string, slug: string, p: string, fake: OpenApiFake) =>
  imported([file, "--tenant", slug, "--prefix", p, "--base-url", fake.url]);

let counter = 0;
const prefix = (name: string) => `${name}${Date.now().toString(36).slice(-4)}${counter++}_`;

async function withFake(file: string, fn: (fake: OpenApiFake, doc: Any) => Promise<void>) {
  const doc = await loadDocument(file);
  const fake = startOpenApiFake(doc);
  try {
    await fn(fake, doc);
  } finally {
    await fake.close();
  }
}

/** A tenant with no tools yet, the fake's address allowed, and a call helper. */
async function importedTenant(fake: OpenApiFake) {
  const tenant = await httpTenant([], {});
  const app = inProcessApp({ config: { upstreamAllowHosts: [fake.hostPort] } });
  const call = async (name: string, args: Record<string, unknown>) => {
    const got = await post(app, callTool(name, args), { key: tenant.key });
    const result = got.body.result;
    ok(result, got.text);
    return result;
  };
  const list = async () => (await post(app, listTools(), { key: tenant.key })).body.result.tools;
  return { tenant, app, call, list };
}

Deno.test("Galaxy (3.1, YAML): imported, listed with schemas and hints, called with the tenant's bearer secret", async () => {
  await withFake(DOCUMENTS.galaxy, async (fake) => {
    const { tenant, call, list } = await importedTenant(fake);
    const p = prefix("gx");
    const out = await importInto(DOCUMENTS.galaxy, tenant.slug, p, fake);
    equal(out.dry_run, false);
    equal(out.added.length, out.operations.imported);
    ok(out.added.includes(`${p}get_all_data`), out.added.join());
    // Not silently dropped: the multipart upload is reported with its reason.
    ok(out.notes.some((n: string) => n.includes("multipart/form-data")), out.notes.join("\n"));
    ok(out.skipped.length + out.added.length >= 8);
    // bearerAuth is mapped; basic, query and cookie keys are reported.
    deepStrictEqual(out.config_http.auth, { type: "bearer", secret: "bearer_auth" });
    equal(out.config_http.base_url, fake.url);
    const unmapped = out.auth.unmapped.map((u: Any) => u.scheme).sort();
    ok(unmapped.includes("basicAuth") && unmapped.includes("apiKeyQuery"), unmapped.join());

    const tools = await list();
    deepStrictEqual(tools.map((t: Any) => t.name).sort(), [...out.added].sort());
    const getPlanet = tools.find((t: Any) => t.name === `${p}get_planet`);
    equal(getPlanet.annotations.readOnlyHint, true);
    deepStrictEqual(getPlanet.inputSchema.required, ["planetId"]);
    const deletePlanet = tools.find((t: Any) => t.name === `${p}delete_planet`);
    equal(deletePlanet.annotations.destructiveHint, true);

    const secret = `galaxy-${crypto.randomUUID()}`;
    await setSecret(tenant.slug, "bearer_auth", secret);
    const got = await call(`${p}get_all_data`, { limit: 5, offset: 10 });
    equal(got.isError, undefined, JSON.stringify(got));
    let seen = fake.seen.at(-1)!;
    equal(seen.operationId, "getAllData");
    deepStrictEqual(seen.query, { limit: ["5"], offset: ["10"] });
    equal(seen.headers.authorization, `Bearer ${secret}`);
    ok(!JSON.stringify(got).includes(secret), "the credential never comes back");

    const created = await call(`${p}create_planet`, { name: "Mars", type: "terrestrial" });
    equal(created.isError, undefined, JSON.stringify(created));
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "createPlanet");
    deepStrictEqual(seen.body, { name: "Mars", type: "terrestrial" });

    await call(`${p}delete_planet`, { planetId: 7 });
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "deletePlanet");
    equal(seen.method, "DELETE");
    deepStrictEqual(seen.params, { planetId: "7" });
  });
});

Deno.test("Petstore (3.0, YAML): form and multipart bodies reported; JSON bodies and path ids sent", async () => {
  await withFake(DOCUMENTS.petstore, async (fake) => {
    const { tenant, call, list } = await importedTenant(fake);
    const p = prefix("ps");
    const out = await importInto(DOCUMENTS.petstore, tenant.slug, p, fake);
    // Array bodies (createUsersWithArrayInput) can't be named arguments: reported, not dropped.
    const skipped = out.skipped.map((s: Any) => s.operationId);
    ok(skipped.includes("createUsersWithArrayInput"), skipped.join());
    for (const s of out.skipped) ok(s.reason.length > 10, JSON.stringify(s));
    ok(out.notes.some((n: string) => n.includes("application/x-www-form-urlencoded")));
    // petstore_auth (OAuth 2) is the first scheme asked for: a bearer token the admin provides.
    deepStrictEqual(out.config_http.auth, { type: "bearer", secret: "petstore_auth" });
    equal((await list()).length, out.added.length);

    await setSecret(tenant.slug, "petstore_auth", "pet-token");
    const found = await call(`${p}find_pets_by_status`, { status: ["available", "sold"] });
    equal(found.isError, undefined, JSON.stringify(found));
    let seen = fake.seen.at(-1)!;
    equal(seen.operationId, "findPetsByStatus");
    deepStrictEqual(seen.query, { status: ["available", "sold"] });

    const added = await call(`${p}add_pet`, { name: "Rex", photoUrls: ["a"], status: "available" });
    equal(added.isError, undefined, JSON.stringify(added));
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "addPet");
    deepStrictEqual(seen.body, { name: "Rex", photoUrls: ["a"], status: "available" });
    equal(seen.headers.authorization, "Bearer pet-token");

    // Header parameters become arguments too (api_key on deletePet).
    await call(`${p}delete_pet`, { petId: 42, api_key: "k-1" });
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "deletePet");
    equal(seen.headers.api_key, "k-1");
    deepStrictEqual(seen.params, { petId: "42" });
  });
});

Deno.test("Train Travel (3.1, YAML): every operation imported and callable, a payment by either source", async () => {
  await withFake(DOCUMENTS.trainTravel, async (fake) => {
    const { tenant, app, call, list } = await importedTenant(fake);
    const p = prefix("tt");
    const out = await importInto(DOCUMENTS.trainTravel, tenant.slug, p, fake);
    // Every operation is representable, the payment's `source` (a card or a bank account, anyOf)
    // included.
    deepStrictEqual(out.skipped, []);
    const tools = await list();
    equal(tools.length, out.added.length);
    // Listed with the choice as the document gives it: the stored schema, unchanged.
    const pay = tools.find((t: Any) => t.name === `${p}create_booking_payment`);
    deepStrictEqual(
      pay.inputSchema,
      JSON.parse(
        await stack.psql(`select definition -> 'input_schema' from public.tool_catalog
          where name = ${lit(`${p}create_booking_payment`)}`),
      ),
    );
    deepStrictEqual(
      pay.inputSchema.properties.source.anyOf.map((choice: Any) => choice.title),
      ["Card", "Bank Account"],
    );
    await setSecret(tenant.slug, "oauth2", "tt-token");
    const trips = await call(`${p}get_trips`, {
      origin: "efdbb9d1-02c2-4bc3-afb7-6788d8782b1e",
      destination: "b2e783e1-c824-4d63-b37a-d8d698862f1d",
      date: "2026-12-01T10:00:00Z",
    });
    equal(trips.isError, undefined, JSON.stringify(trips));
    equal(fake.seen.at(-1)!.operationId, "get-trips");

    const bookingId = "1725ff48-ab45-4bb5-9d02-88745177dedb";
    const bank = {
      object: "bank_account",
      name: "A. Traveller",
      number: "00012345",
      sort_code: "123456",
      account_type: "individual",
      bank_name: "Starling Bank",
      country: "GB",
    };
    const paid = await call(`${p}create_booking_payment`, {
      bookingId,
      amount: 49.99,
      currency: "gbp",
      source: bank,
    });
    equal(paid.isError, undefined, JSON.stringify(paid));
    const seen = fake.seen.at(-1)!;
    equal(seen.operationId, "create-booking-payment");
    deepStrictEqual(seen.params, { bookingId });
    deepStrictEqual(seen.body, { amount: 49.99, currency: "gbp", source: bank });

    const card = {
      name: "A. Traveller",
      number: "4242424242424242",
      cvc: 123,
      exp_month: 12,
      exp_year: 2030,
      address_country: "GB",
    };
    const byCard = await call(`${p}create_booking_payment`, { bookingId, source: card });
    equal(byCard.isError, undefined, JSON.stringify(byCard));
    deepStrictEqual(fake.seen.at(-1)!.body, { source: card });

    // Neither a card nor a bank account: refused before anything is sent, naming the choices.
    const before = fake.seen.length;
    const refused = await post(
      app,
      callTool(`${p}create_booking_payment`, {
        bookingId,
        source: { name: "A. Traveller", number: "00012345" },
      }),
      { key: tenant.key },
    );
    ok(refused.body.error || refused.body.result?.isError, refused.text);
    match(refused.text, /source.*must match at least one of the 2 choices \(anyOf\)/);
    equal(fake.seen.length, before);
  });
});

Deno.test("GitHub (3.0, JSON, 1,200+ operations): imported in one command, listed and called", async () => {
  await withFake(DOCUMENTS.github, async (fake) => {
    const { tenant, app, call, list } = await importedTenant(fake);
    const p = prefix("gh");
    const out = await importInto(DOCUMENTS.github, tenant.slug, p, fake);
    ok(out.added.length > 1000, `${out.added.length} imported`);
    equal(out.added.length + out.skipped.length, 1223);
    // Skipped: bodies it can't represent, and schemas using keywords tool inputs may not use or
    // nested past the limit.
    for (const s of out.skipped) {
      match(s.reason, /body|is not supported|nested deeper than/, JSON.stringify(s));
    }
    // Choices (anyOf/oneOf) are not a reason: 1,189 operations import.
    ok(out.added.length >= 1189, `${out.added.length} imported`);
    ok(!out.skipped.some((s: Any) => /"(anyOf|oneOf)" is not supported/.test(s.reason)));
    // GitHub's document declares no security scheme: the tenant's auth is left to the admin.
    equal(out.auth.auth, undefined);
    equal((await list()).length, out.added.length);

    // issues/create: title, milestone and each label are choices (oneOf).
    const issue = await call(`${p}issues_create`, {
      owner: "octo",
      repo: "hello",
      title: "Crash on start",
      milestone: 3,
      labels: ["bug", { name: "p1", color: "ff0000" }],
    });
    equal(issue.isError, undefined, JSON.stringify(issue));
    let seen = fake.seen.at(-1)!;
    equal(seen.operationId, "issues/create");
    deepStrictEqual(seen.body, {
      title: "Crash on start",
      milestone: 3,
      labels: ["bug", { name: "p1", color: "ff0000" }],
    });
    const before = fake.seen.length;
    const badLabel = await post(
      app,
      callTool(`${p}issues_create`, {
        owner: "octo",
        repo: "hello",
        title: "x",
        labels: [true],
      }),
      { key: tenant.key },
    );
    ok(badLabel.body.error || badLabel.body.result?.isError, badLabel.text);
    match(badLabel.text, /labels.*must match exactly one of the 2 choices \(oneOf\)/);
    equal(fake.seen.length, before);

    const comment = await call(`${p}issues_create_comment`, {
      owner: "octo",
      repo: "hello",
      issue_number: 7,
      body: "Found a bug",
    });
    equal(comment.isError, undefined, JSON.stringify(comment));
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "issues/create-comment");
    deepStrictEqual(seen.params, { owner: "octo", repo: "hello", issue_number: "7" });
    deepStrictEqual(seen.body, { body: "Found a bug" });

    await call(`${p}repos_get_content`, {
      owner: "octo",
      repo: "hello",
      path: "README.md",
      ref: "main",
    });
    seen = fake.seen.at(-1)!;
    equal(seen.operationId, "repos/get-content");
    deepStrictEqual(seen.query, { ref: ["main"] });
  });
});

Deno.test("HEAD (Galaxy with a HEAD operation added): imported read-only, listed, called; the answer is status and headers", async () => {
  const doc = JSON.parse(
    await Deno.readTextFile(DOCUMENTS.galaxy.replace(/latest\.yaml$/, "latest.json")),
  );
  const planet = doc.paths["/planets/{planetId}"];
  planet.head = {
    operationId: "checkPlanet",
    summary: "Check a planet",
    description: "Whether the planet exists, and its ETag, without its body.",
    parameters: planet.get.parameters,
    security: [],
    responses: { 200: { description: "It exists" }, 404: { description: "No such planet" } },
  };
  const dir = await Deno.makeTempDir();
  const file = join(dir, "galaxy.json");
  await Deno.writeTextFile(file, JSON.stringify(doc));
  try {
    await withFake(file, async (fake) => {
      const { tenant, call, list } = await importedTenant(fake);
      const p = prefix("hd");
      const out = await importInto(file, tenant.slug, p, fake);
      ok(out.added.includes(`${p}check_planet`), out.added.join());
      ok(!out.skipped.some((s: Any) => s.operation.startsWith("HEAD")), JSON.stringify(out));
      const tool = (await list()).find((t: Any) => t.name === `${p}check_planet`);
      equal(tool.annotations.readOnlyHint, true);
      equal(tool.annotations.destructiveHint, undefined);
      deepStrictEqual(tool.inputSchema.required, ["planetId"]);

      await setSecret(tenant.slug, "bearer_auth", "galaxy-token");
      const got = await call(`${p}check_planet`, { planetId: 3 });
      equal(got.isError, undefined, JSON.stringify(got));
      const seen = fake.seen.at(-1)!;
      deepStrictEqual([seen.method, seen.operationId, seen.params], [
        "HEAD",
        "checkPlanet",
        { planetId: "3" },
      ]);
      equal(got.structuredContent.status, 200);
      equal(got.structuredContent.headers.etag, '"checkPlanet"');
      equal(got.structuredContent.headers["content-type"], "application/json");
      ok(Number(got.structuredContent.headers["content-length"]) > 0, JSON.stringify(got));
      match(got.content[0].text, /^The upstream API answered HTTP 200 to HEAD:\n/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("re-import reports added, changed (version moves) and removed; a dry run saves nothing", async () => {
  const doc = JSON.parse(
    await Deno.readTextFile(DOCUMENTS.galaxy.replace(/latest\.yaml$/, "latest.json")),
  );
  const dir = await Deno.makeTempDir();
  const file = join(dir, "galaxy.json");
  await Deno.writeTextFile(file, JSON.stringify(doc));
  const tenant = await httpTenant([], {});
  const p = prefix("re");
  const args = [
    file,
    "--tenant",
    tenant.slug,
    "--prefix",
    p,
    "--base-url",
    "https://api.example.com",
  ];
  const first = await imported(args);
  ok(first.added.length >= 8);

  doc.paths["/planets/{planetId}"].get.summary = "Get one planet, with its moons";
  delete doc.paths["/planets/{planetId}"].delete;
  doc.paths["/moons"] = {
    get: {
      operationId: "listMoons",
      summary: "List moons",
      responses: { 200: { description: "ok" } },
    },
  };
  await Deno.writeTextFile(file, JSON.stringify(doc));

  const dry = await imported([...args, "--dry-run"]);
  equal(dry.dry_run, true);
  deepStrictEqual(dry.added, [`${p}list_moons`]);
  deepStrictEqual(dry.removed, [`${p}delete_planet`]);
  const version = async () =>
    Number(
      await stack.psql(
        `select version from public.tool_catalog where name = ${lit(`${p}get_planet`)}`,
      ),
    );
  equal(await version(), 1, "the dry run saved nothing");
  equal(
    (await stack.psql(
      `select count(*) from public.tool_catalog where name = ${lit(`${p}list_moons`)}`,
    )).trim(),
    "0",
  );

  const second = await imported(args);
  deepStrictEqual(second.added, [`${p}list_moons`]);
  deepStrictEqual(second.removed, [`${p}delete_planet`]);
  deepStrictEqual(second.changed, [{ name: `${p}get_planet`, from_version: 1, version: 2 }]);
  equal(second.unchanged.length, first.added.length - 2);
  equal(await version(), 2);
  const enabled = (await stack.psql(
    `select array_to_string(enabled_tools, ',') from public.tenants where slug = ${
      lit(tenant.slug)
    }`,
  )).trim().split(",");
  ok(enabled.includes(`${p}list_moons`) && !enabled.includes(`${p}delete_planet`));

  const third = await imported(args);
  deepStrictEqual([third.added, third.changed, third.removed], [[], [], []]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("imported tools are the tenant's own: another tenant neither sees nor enables them", async () => {
  await withFake(DOCUMENTS.trainTravel, async (fake) => {
    const a = await importedTenant(fake);
    const b = await importedTenant(fake);
    const p = prefix("iso");
    const out = await importInto(DOCUMENTS.trainTravel, a.tenant.slug, p, fake);
    // Interleaved callers on one app and one server cache.
    const [listA, listB] = await Promise.all([
      post(a.app, listTools(), { key: a.tenant.key }),
      post(a.app, listTools(), { key: b.tenant.key }),
    ]);
    equal(toolNames(listA).length, out.added.length);
    deepStrictEqual(toolNames(listB), []);
    const called = await post(a.app, callTool(`${p}get_stations`, {}), { key: b.tenant.key });
    ok(called.body.error || called.body.result?.isError, called.text);
    const enable = await admin(["tools", "enable", b.tenant.slug, `${p}get_stations`, "--json"]);
    equal(enable.code, 1);
    match(enable.json.error, /another tenant/);
    // The same names can't be taken over by importing them for another tenant.
    const clash = await admin([
      "tools",
      "import-openapi",
      DOCUMENTS.trainTravel,
      "--tenant",
      b.tenant.slug,
      "--prefix",
      p,
      "--json",
    ]);
    equal(clash.code, 1);
    match(clash.json.error, /already taken/);
  });
});

Deno.test("a file that is not OpenAPI 3 is refused with the reason, and nothing is saved", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "swagger.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ swagger: "2.0", info: { title: "Old", version: "1" }, paths: {} }),
  );
  const run = await admin(["tools", "import-openapi", file, "--json"]);
  equal(run.code, 1);
  match(run.json.error, /not an OpenAPI 3\.0 or 3\.1 document/);
  const missing = await admin(["tools", "import-openapi", join(dir, "nope.yaml"), "--json"]);
  equal(missing.code, 1);
  match(missing.json.error, /not a usable OpenAPI document/);
  await Deno.remove(dir, { recursive: true });
});
