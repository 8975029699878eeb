// A worker of `deno task soak`: sends the same request on `concurrency` loops until told to stop,
// then reports how many were sent and their statuses. In its own thread, so the flood does not
// slow the measuring loop down and the latencies measured are the function's.
/// <reference lib="deno.worker" />

interface Job {
  url: string;
  concurrency: number;
  /** A fresh body and headers per request. */
  requests: "fixed" | "random-keys";
  body: string;
  headers: Record<string, string>;
}

let running = true;
self.onmessage = async (event: MessageEvent<Job | "stop">) => {
  if (event.data === "stop") {
    running = false;
    return;
  }
  const job = event.data;
  const statuses: Record<number, number> = {};
  const { withChecksum } = await import(
    "../supabase/functions/mcp-tools-server/auth/api_key.ts"
  );
  const hex = (bytes: number) =>
    Array.from(
      crypto.getRandomValues(new Uint8Array(bytes)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  await Promise.all(Array.from({ length: job.concurrency }, async () => {
    while (running) {
      const headers = { ...job.headers };
      if (job.requests === "random-keys") {
        headers.authorization = `Bearer ${await withChecksum(`mcpk_${hex(6)}_${hex(32)}`)}`;
      }
      try {
        const res = await fetch(job.url, { method: "POST", headers, body: job.body });
        await res.body?.cancel();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      } catch {
        statuses[0] = (statuses[0] ?? 0) + 1;
      }
    }
  }));
  self.postMessage(statuses);
};
