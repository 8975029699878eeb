/** Work after the answer: handed to EdgeRuntime.waitUntil where it exists, tracked always. */
import { equal } from "node:assert/strict";
import { createBackground } from "../../supabase/functions/mcp-tools-server/lib/background.ts";

Deno.test("background: on the edge runtime every piece of work goes to waitUntil", async () => {
  const handed: Promise<unknown>[] = [];
  const background = createBackground({ waitUntil: (promise) => handed.push(promise) });
  let done = 0;
  background.run(async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    done++;
  });
  background.run(() => Promise.reject(new Error("a failed flush stays in the background")));
  equal(handed.length, 2);
  equal(background.pending, 2);
  await Promise.all(handed);
  await background.settled();
  equal(done, 1);
  equal(background.pending, 0);
});

Deno.test("background: elsewhere it is tracked, and settled() waits for work started meanwhile", async () => {
  const background = createBackground(undefined);
  const order: string[] = [];
  background.run(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push("first");
    background.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push("second");
    });
  });
  await background.settled();
  equal(order.join(","), "first,second");
});
