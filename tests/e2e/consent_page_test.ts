/**
 * The consent page in a real headless browser (Debian's Chromium, driven by playwright-core):
 * an MCP client's authorization request leads to the page, the person signs in, sees the client
 * and the scopes, and approves or denies; the code it yields becomes a token that calls tools.
 * The Auth endpoints the page calls are served by the local Auth STAND-IN (scripts/auth_standin.ts,
 * following Supabase Auth's documented shapes), since Supabase Auth itself can't run here.
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildConsentPage } from "../../scripts/consent_build.ts";
import { isExecutable, which } from "../../scripts/lib/which.ts";
import { tenantWithKey } from "../support/fixtures.ts";
import { callTool, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import { addMember, createUser } from "../support/users.ts";

const CHROMIUM = ["/usr/bin/chromium", which("chromium"), which("chromium-browser")]
  .find((path): path is string => !!path && isExecutable(path));
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const REDIRECT = "http://127.0.0.1:9/callback";

let built: Promise<void> | undefined;
/** The page as a static host would serve it: the test stack's gateway serves <runDir>/consent. */
const consentPage = () =>
  built ??= buildConsentPage(join(stack.info.runDir, "consent"), {
    supabaseUrl: stack.info.supabaseUrl,
    supabaseKey: stack.info.anonKey,
  });

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest))).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** What an MCP client does before opening the browser: register, then build the authorize URL. */
async function authorizationRequest() {
  const issuer = `${stack.info.supabaseUrl}/auth/v1`;
  const registered = await fetch(`${issuer}/oauth/clients/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Inspector (test)", redirect_uris: [REDIRECT] }),
  });
  const { client_id: clientId } = await registered.json();
  const verifier = crypto.randomUUID() + crypto.randomUUID();
  const url = new URL(`${issuer}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
    scope: "openid email",
    state: "xyz",
  }).toString();
  return { clientId, verifier, url: url.toString() };
}

/** Runs `body` with a page of a fresh Chromium profile; the redirect back to the client is caught. */
async function withBrowser(body: (page: import("playwright-core").Page) => Promise<void>) {
  if (!CHROMIUM) {
    throw new Error("Chromium is missing: apt-get install -y chromium (.ci/run does).");
  }
  const profile = await Deno.makeTempDir({ prefix: "consent-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    // The client's redirect URI: answered here, as a native client's loopback listener would.
    await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, body: "back" }));
    await body(page);
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
}

Deno.test({
  name: "consent page (Chromium): sign in, see client and scopes, approve; the code calls tools",
  async fn() {
    await consentPage();
    const t = await tenantWithKey(["tenant_info"]);
    const user = await createUser("consent");
    await addMember(t.slug, user, "owner");
    const request = await authorizationRequest();

    let redirectedTo = "";
    await withBrowser(async (page) => {
      const response = await page.goto(request.url);
      match(page.url(), /\/consent\/\?authorization_id=/);
      match(response?.headers()["content-type"] ?? "", /^text\/html/, "served as HTML");
      await page.fill("#email", user.email);
      await page.fill("#password", user.password);
      await page.click("#sign-in-button");
      await page.waitForSelector("#consent:not([hidden])");
      equal(await page.textContent("#client-name"), "Inspector (test)");
      equal(await page.textContent("#user-email"), user.email);
      equal(await page.textContent("#scopes"), "openid email");
      await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click("#approve")]);
      redirectedTo = page.url();
    });

    const back = new URL(redirectedTo);
    equal(back.searchParams.get("state"), "xyz");
    const code = back.searchParams.get("code");
    ok(code, redirectedTo);
    const token = await fetch(`${stack.info.supabaseUrl}/auth/v1/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        client_id: request.clientId,
        redirect_uri: REDIRECT,
        code_verifier: request.verifier,
      }),
    }).then((res) => res.json());
    ok(token.access_token, JSON.stringify(token));
    const info = await post(stack.info.mcpUrl, callTool("tenant_info"), {
      key: token.access_token,
    });
    equal(info.body.result.structuredContent.tenant.slug, t.slug);
  },
});

Deno.test({
  name: "consent page (Chromium): denying sends the client access_denied and no code",
  async fn() {
    await consentPage();
    const user = await createUser("deny");
    const request = await authorizationRequest();
    await withBrowser(async (page) => {
      await page.goto(request.url);
      await page.fill("#email", user.email);
      await page.fill("#password", "wrong password");
      await page.click("#sign-in-button");
      await page.waitForSelector("#status.error");
      match((await page.textContent("#status"))!, /Sign-in failed: Invalid login credentials/);
      await page.fill("#password", user.password);
      await page.click("#sign-in-button");
      await page.waitForSelector("#consent:not([hidden])");
      await Promise.all([page.waitForURL(`${REDIRECT}**`), page.click("#deny")]);
      const back = new URL(page.url());
      equal(back.searchParams.get("error"), "access_denied");
      equal(back.searchParams.get("code"), null);
    });
  },
});
