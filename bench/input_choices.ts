/**
 * What anyOf/oneOf cost in HTTP tools' input schemas, in process: building a tool's validator
 * (once per tool version) and validating one call's arguments, for real imported operations
 * (Train Travel's payment, GitHub's issues/create) against a baseline of the same definition with
 * each choice replaced by its matching branch alone. Also the validators of a whole GitHub import.
 * Rounds interleave the variants; each prints median and range. Not part of the test suite.
 *
 *   deno run -A bench/input_choices.ts [iterations]
 */
import { loadDocument } from "../scripts/lib/import_openapi.ts";
import { planImport } from "../scripts/lib/openapi_import.ts";
import { parseHttpDefinition } from "../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { DOCUMENTS } from "../tests/support/openapi_documents.ts";

type Json = Record<string, unknown>;
const iterations = Number(Deno.args[0] ?? 2_000);
const ROUNDS = 9;

async function operation(file: string, operationId: string): Promise<Json> {
  const plan = planImport(await loadDocument(file), { only: [operationId] });
  return plan.tools[0].definition;
}

/** The definition with each anyOf/oneOf replaced by its choice number `pick` (no choices left). */
function withoutChoices(node: unknown, pick: (choices: unknown[]) => unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutChoices(n, pick));
  if (typeof node !== "object" || node === null) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if ((key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
      Object.assign(out, withoutChoices(pick(value), pick));
    } else out[key] = withoutChoices(value, pick);
  }
  return out;
}

const payment = await operation(DOCUMENTS.trainTravel, "create-booking-payment");
const issue = await operation(DOCUMENTS.github, "issues/create");
const bank = {
  object: "bank_account",
  name: "A. Traveller",
  number: "00012345",
  account_type: "individual",
  bank_name: "Starling Bank",
  country: "GB",
};
const cases = {
  // The bank account is the second choice: anyOf tries the card first.
  payment: {
    choices: payment,
    baseline: withoutChoices(payment, (c) => c[c.length - 1]) as Json,
    args: { bookingId: "1725ff48-ab45-4bb5-9d02-88745177dedb", amount: 10, source: bank },
  },
  issue: {
    choices: issue,
    baseline: withoutChoices(issue, (c) => c[0]) as Json,
    args: { owner: "o", repo: "r", title: "t", milestone: "m", labels: ["a", "b", "c"] },
  },
};

function timeUs(fn: () => void, n: number): number {
  const started = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - started) * 1000) / n;
}

const results: Record<string, number[]> = {};
const record = (name: string, value: number) => (results[name] ??= []).push(value);
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, c] of Object.entries(cases)) {
    for (const variant of ["baseline", "choices"] as const) {
      const definition = c[variant];
      const build = timeUs(() => parseHttpDefinition(name, definition), iterations / 10);
      const { input } = parseHttpDefinition(name, definition);
      if (!input.safeParse(c.args).success) throw new Error(`${name} ${variant}: args refused`);
      const validate = timeUs(() => input.safeParse(c.args), iterations);
      if (round > 0) { // round 0 warms up
        record(`${name} build ${variant}`, build);
        record(`${name} validate ${variant}`, validate);
      }
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => x.toFixed(1).padStart(8);
console.log(`µs per operation, ${ROUNDS} rounds (median [min–max]); ratio = choices / baseline`);
for (const name of Object.keys(cases)) {
  for (const step of ["build", "validate"]) {
    const base = results[`${name} ${step} baseline`];
    const choice = results[`${name} ${step} choices`];
    const ratios = choice.map((c, i) => c / base[i]);
    console.log(
      `${`${name} ${step}`.padEnd(18)} baseline ${fmt(median(base))} [${
        Math.min(...base).toFixed(1)
      }–${Math.max(...base).toFixed(1)}]  choices ${fmt(median(choice))} [${
        Math.min(...choice).toFixed(1)
      }–${Math.max(...choice).toFixed(1)}]  ratio ${median(ratios).toFixed(2)} [${
        Math.min(...ratios).toFixed(2)
      }–${Math.max(...ratios).toFixed(2)}]`,
    );
  }
}

// Every validator of a GitHub import (what a tenant's first tools/list after it builds).
const github = planImport(await loadDocument(DOCUMENTS.github));
const withChoices = github.tools.filter((t) =>
  /"(anyOf|oneOf)"/.test(JSON.stringify(t.definition))
);
const whole: number[] = [];
for (let round = 0; round < 5; round++) {
  const started = performance.now();
  for (const tool of github.tools) parseHttpDefinition(tool.name, tool.definition);
  whole.push(performance.now() - started);
}
console.log(
  `GitHub: ${github.tools.length} tools (${withChoices.length} with choices) built in ${
    median(whole).toFixed(0)
  } ms median [${Math.min(...whole).toFixed(0)}–${Math.max(...whole).toFixed(0)}] over 5 rounds`,
);
