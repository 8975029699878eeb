/** `deno task admin` as a subprocess against the test stack, the way a hosted project is reached. */
import { join } from "node:path";
import { stack } from "./stack.ts";

const SCRIPT = join(import.meta.dirname!, "..", "..", "scripts", "admin.ts");

export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

export async function adminCli(args: string[]): Promise<AdminRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    env: {
      MCP_DEV_HOME: "/nonexistent",
      SUPABASE_URL: stack.info.supabaseUrl,
      SUPABASE_SERVICE_ROLE_KEY: stack.info.serviceRoleKey,
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  let json;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code: out.code, stdout, stderr: new TextDecoder().decode(out.stderr), json };
}
