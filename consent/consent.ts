/// <reference lib="dom" />
/**
 * The consent page Supabase Auth's OAuth server sends people to (Site URL +
 * authorization_url_path, with ?authorization_id=…): sign in, see which client asks for what,
 * approve or deny. Everything goes through supabase-js (auth.oauth.*); the page holds no secret.
 * Bundled for browsers by `deno task consent`.
 */
import { createClient } from "@supabase/supabase-js";

interface ConsentConfig {
  supabaseUrl: string;
  supabaseKey: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");

function say(text: string, error = false) {
  status.textContent = text;
  status.classList.toggle("error", error);
}

async function main() {
  const config = (globalThis as { CONSENT_CONFIG?: ConsentConfig }).CONSENT_CONFIG;
  if (!config?.supabaseUrl || !config.supabaseKey) {
    return say("This page is not configured: config.js must set CONSENT_CONFIG.", true);
  }
  const authorizationId = new URLSearchParams(location.search).get("authorization_id");
  if (!authorizationId) {
    return say("No authorization request: open this page from your MCP client's sign-in.", true);
  }
  const supabase = createClient(config.supabaseUrl, config.supabaseKey);

  const { data: { session } } = await supabase.auth.getSession();
  if (!session) {
    say("");
    const form = $<HTMLFormElement>("sign-in");
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("Signing in…");
      const { error } = await supabase.auth.signInWithPassword({
        email: $<HTMLInputElement>("email").value,
        password: $<HTMLInputElement>("password").value,
      });
      if (error) return say(`Sign-in failed: ${error.message}`, true);
      form.hidden = true;
      await showRequest();
    });
    return;
  }
  await showRequest();

  async function showRequest() {
    say("Loading the request…");
    const { data, error } = await supabase.auth.oauth.getAuthorizationDetails(authorizationId!);
    if (error || !data) return say(`This request can't be shown: ${error?.message}`, true);
    if ("redirect_url" in data) {
      // Approved before: straight back to the client.
      say("Already approved; returning to the client…");
      location.assign(data.redirect_url);
      return;
    }
    $("client-name").textContent = data.client.name || data.client.id;
    $("user-email").textContent = data.user.email;
    $("client-uri").textContent = data.client.uri ? `Client website: ${data.client.uri}` : "";
    $("scopes").textContent = data.scope || "basic access";
    $("consent").hidden = false;
    say("");
    const decide = async (approve: boolean) => {
      $<HTMLButtonElement>("approve").disabled = true;
      $<HTMLButtonElement>("deny").disabled = true;
      say(approve ? "Approving…" : "Denying…");
      // supabase-js sends the browser back to the client's redirect URI.
      const result = approve
        ? await supabase.auth.oauth.approveAuthorization(authorizationId!)
        : await supabase.auth.oauth.denyAuthorization(authorizationId!);
      if (result.error) say(`That did not work: ${result.error.message}`, true);
    };
    $("approve").addEventListener("click", () => decide(true));
    $("deny").addEventListener("click", () => decide(false));
  }
}

main().catch((err) =>
  say(`Something went wrong: ${err instanceof Error ? err.message : err}`, true)
);
