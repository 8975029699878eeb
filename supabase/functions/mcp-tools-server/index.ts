/** Entry point on Supabase Edge Functions (and locally via `deno task dev`): serve, nothing else. */
import { composeApp } from "./compose.ts";
import { loadConfig } from "./config.ts";

const config = loadConfig((name) => Deno.env.get(name));
const { app } = composeApp(config);

// The edge runtime picks the port itself; the local stack asks for a specific one.
Deno.serve(
  config.port === undefined ? {} : { port: config.port, hostname: "127.0.0.1", onListen: () => {} },
  app.fetch,
);
