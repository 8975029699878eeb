/**
 * People through the gateway with the official SDK clients: a signed-in user's access token as
 * the Bearer credential (SDK v1 and v2), refusals a client shows as they are, and OAuth sign-in
 * from scratch: the SDK reads the 401's resource_metadata, discovers the project's Auth server,
 * registers itself, is approved on the consent page's calls (supabase-js), and calls tools.
 */
import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import type {
  OAuthClientInformationMixed,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from "@modelcontextprotocol/client";
import { tenantWithKey } from "../support/fixtures.ts";
import { callTool, listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import {
  addMember,
  claimsFor,
  createUser,
  mint,
  otherProjectKey,
  signIn,
  type TestUser,
} from "../support/users.ts";

const bearer = (token: string) => ({
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});

Deno.test("SDK v1 and v2 with a user's access token list and call the tenant's tools", async () => {
  const t = await tenantWithKey(["echo", "tenant_info"]);
  const user = await createUser();
  await addMember(t.slug, user, "owner");
  const token = await signIn(user);

  const v1 = new ClientV1({ name: "user-v1", version: "1.0.0" });
  await v1.connect(new TransportV1(new URL(stack.info.mcpUrl), bearer(token)));
  try {
    deepStrictEqual((await v1.listTools()).tools.map((tool: { name: string }) => tool.name), [
      "echo",
      "tenant_info",
    ]);
    const info = await v1.callTool({ name: "tenant_info" });
    equal((info.structuredContent as { tenant: { slug: string } }).tenant.slug, t.slug);
  } finally {
    await v1.close();
  }

  const v2 = new ClientV2({ name: "user-v2", version: "1.0.0" }, {
    versionNegotiation: { mode: "auto" },
  });
  await v2.connect(new TransportV2(new URL(stack.info.mcpUrl), bearer(token)));
  try {
    equal(v2.getNegotiatedProtocolVersion(), "2026-07-28");
    const echoed = await v2.callTool({ name: "echo", arguments: { text: "hi" } });
    deepStrictEqual(echoed.content, [{ type: "text", text: "hi" }]);
  } finally {
    await v2.close();
  }
});

Deno.test("through the gateway: other tenants, other projects and expired tokens are refused", async () => {
  const a = await tenantWithKey(["tenant_info"]);
  const b = await tenantWithKey(["tenant_info"]);
  const user = await createUser();
  await addMember(a.slug, user, "member");
  const token = await signIn(user);
  const bUrl = stack.info.mcpUrl.replace(/\/mcp$/, `/t/${b.slug}/mcp`);

  const other = await post(bUrl, listTools(), { key: token });
  equal(other.status, 403);
  equal(other.body.code, "NOT_A_MEMBER");
  // Interleaved with B's own key on B's URL, which keeps working.
  const own = await post(bUrl, callTool("tenant_info"), { key: b.key });
  equal(own.body.result.structuredContent.tenant.slug, b.slug);

  const now = Math.floor(Date.now() / 1000);
  for (
    const bad of [
      await mint(claimsFor(user), otherProjectKey),
      await mint({ ...claimsFor(user), iat: now - 7200, exp: now - 3600 }),
    ]
  ) {
    const refused = await post(stack.info.mcpUrl, listTools(), { key: bad });
    equal(refused.status, 401);
    equal(refused.body.code, "INVALID_TOKEN");
    match(refused.headers.get("www-authenticate") ?? "", /error_description="/);
  }

  const v1 = new ClientV1({ name: "refused", version: "1.0.0" });
  await rejects(
    v1.connect(new TransportV1(new URL(bUrl), bearer(token))),
    /not a member of tenant/,
    "the SDK shows the server's own message",
  );
});

/** An MCP client's OAuth state, approving on the consent page's calls as the user would. */
class ApprovingProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  code?: string;

  constructor(private readonly user: TestUser) {}

  get redirectUrl() {
    return "http://127.0.0.1:8976/callback";
  }
  get clientMetadata() {
    return {
      client_name: "sdk-oauth-test",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  /** The browser's part: follow to the consent page, sign in, approve (supabase-js), get the code. */
  async redirectToAuthorization(url: URL) {
    const res = await fetch(url, { redirect: "manual" });
    await res.body?.cancel();
    const consent = new URL(res.headers.get("location")!);
    const id = consent.searchParams.get("authorization_id")!;
    const supabase = createClient(stack.info.supabaseUrl, stack.info.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
    const signedIn = await supabase.auth.signInWithPassword(this.user);
    ok(!signedIn.error, signedIn.error?.message);
    const details = await supabase.auth.oauth.getAuthorizationDetails(id);
    ok(details.data && "client" in details.data, JSON.stringify(details));
    equal(details.data.client.name, "sdk-oauth-test");
    const approved = await supabase.auth.oauth.approveAuthorization(id, {
      skipBrowserRedirect: true,
    });
    this.code = new URL(approved.data!.redirect_url).searchParams.get("code")!;
  }
}

Deno.test("OAuth sign-in from scratch: 401 → metadata → registration → consent → token → tools", async () => {
  const fn = await stack.startFunction({ MCP_OAUTH: "on" });
  try {
    const t = await tenantWithKey(["echo", "tenant_info"]);
    const user = await createUser("oauth");
    await addMember(t.slug, user, "owner");
    const url = new URL(`${fn.url}/mcp-tools-server/mcp`);
    const provider = new ApprovingProvider(user);

    const first = new TransportV1(url, { authProvider: provider });
    await rejects(
      new ClientV1({ name: "oauth", version: "1.0.0" }).connect(first),
      UnauthorizedError,
    );
    ok(provider.code, "the consent step produced a code");
    await first.finishAuth(provider.code!);
    const claims = JSON.parse(
      atob(provider.saved!.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    equal(claims.client_id, provider.client!.client_id, "an OAuth token names its client");
    equal(claims.tenant_id, t.id, "the hook named the user's tenant");

    const client = new ClientV1({ name: "oauth", version: "1.0.0" });
    await client.connect(new TransportV1(url, { authProvider: provider }));
    try {
      const info = await client.callTool({ name: "tenant_info" });
      equal((info.structuredContent as { tenant: { slug: string } }).tenant.slug, t.slug);
    } finally {
      await client.close();
    }
  } finally {
    await fn.stop();
  }
});
