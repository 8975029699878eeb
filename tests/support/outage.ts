/**
 * Outages on a stack of one's own (never the shared test stack): PostgREST frozen with SIGSTOP,
 * Postgres stopped and started again. Real processes, real signals.
 */
import { join } from "node:path";
import { type Stack, startStack } from "../../scripts/stack.ts";
import { findPostgres, startPostgres } from "../../scripts/lib/postgres.ts";
import { lit } from "./fixtures.ts";

export interface OutageStack {
  stack: Stack;
  /** A tenant with these tools and a key for it, on this stack. */
  tenantWithKey(tools: string[]): Promise<{ slug: string; key: string; keyId: string }>;
  freezePostgrest(): void;
  thawPostgrest(): void;
  /** Fast shutdown of Postgres (what a crash or a restart looks like to PostgREST). */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startOutageStack(): Promise<OutageStack> {
  const stack = await startStack();
  const dataDir = join(stack.runDir, "db");
  const pidDir = join(stack.runDir, "pids");
  const port = Number(new URL(stack.dbUrl).port);
  const postgrestPid = () => {
    for (const entry of Deno.readDirSync(pidDir)) {
      const marker = Deno.readTextFileSync(join(pidDir, entry.name));
      if (marker.includes("postgrest")) return Number(entry.name);
    }
    throw new Error("no PostgREST process recorded");
  };
  const pid = postgrestPid();
  let frozen = false;
  return {
    stack,
    async tenantWithKey(tools) {
      const slug = `o-${Date.now().toString(36)}-${(counter++).toString(36)}`;
      await stack.psql(
        `insert into public.tenants (slug, name, enabled_tools) values (${lit(slug)}, ${
          lit(`Tenant ${slug}`)
        }, array[${tools.map(lit).join(",")}]::text[])`,
      );
      const issued = JSON.parse(
        await stack.psql(`select public.issue_api_key(${lit(slug)}, 'outage test')`),
      );
      return { slug, key: issued.key, keyId: issued.key_id ?? issued.key.split("_")[1] };
    },
    freezePostgrest() {
      Deno.kill(pid, "SIGSTOP");
      frozen = true;
    },
    thawPostgrest() {
      Deno.kill(pid, "SIGCONT");
      frozen = false;
    },
    async stopPostgres() {
      const postmaster = Number(
        Deno.readTextFileSync(join(dataDir, "postmaster.pid")).split("\n")[0],
      );
      Deno.kill(postmaster, "SIGINT");
      while (true) {
        try {
          Deno.statSync(join(dataDir, "postmaster.pid"));
          await new Promise((resolve) => setTimeout(resolve, 50));
        } catch {
          return;
        }
      }
    },
    async startPostgres() {
      await startPostgres(await findPostgres(), dataDir, { port, durable: false });
    },
    async stop() {
      if (frozen) Deno.kill(pid, "SIGCONT");
      await stack.stop();
    },
  };
}
