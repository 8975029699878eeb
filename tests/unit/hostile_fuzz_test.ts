/**
 * A few hundred seeded hostile requests through the real app (in-process, in-memory tenants):
 * every answer is a 4xx or 2xx JSON (or an empty 202), never a 5xx or a stack trace, and the
 * tenants' tools keep working afterwards. `deno task soak` runs ten thousand and more.
 */
import { equal } from "node:assert/strict";
import { answerProblem, hostileCases } from "../support/hostile_bodies.ts";
import { capturingLogger } from "../support/log_capture.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import { callTool, post } from "../support/mcp_client.ts";

const SEED = Number(Deno.env.get("HOSTILE_SEED") ?? 12);

Deno.test(`hostile input: 400 seeded requests (seed ${SEED}) get clear answers, no 5xx`, async () => {
  const tenants = new MemoryTenants();
  const tenant = await tenants.add(["echo", "tenant_info"]);
  const log = capturingLogger();
  const app = unitApp(tenants, { log });
  const problems: string[] = [];
  for (const c of hostileCases(SEED, 400)) {
    const res = await app.fetch(app.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tenant.key}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...c.headers,
      },
      body: c.body,
    });
    const problem = answerProblem(
      res.status,
      res.headers.get("content-type") ?? "",
      await res.text(),
    );
    if (problem) problems.push(`${c.what}: ${problem}`);
  }
  equal(problems.join("\n"), "");
  equal(log.events.filter((e) => e.level === "error").map((e) => e.event).join(","), "");
  const echo = await post(app, callTool("echo", { text: "after" }), { key: tenant.key });
  equal(echo.body.result.content[0].text, "after");
});
