// Copy to config.js (or let `deno task consent --out <dir>` write it) and fill in your project's
// values: its URL and its publishable (or legacy anon) key. Both are public by design.
globalThis.CONSENT_CONFIG = {
  supabaseUrl: "https://<project-ref>.supabase.co",
  supabaseKey: "sb_publishable_…",
};
