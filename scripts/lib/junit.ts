// Counting results in the JUnit report of `deno test`. Deno lists each step as its own
// testcase named "<test> > <step>"; only top-level tests are counted, and a test whose
// steps failed is itself marked failed.

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Case {
  suite: string;
  name: string;
  body: string;
}

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
  "&amp;": "&",
};

function unescape(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (entity) => ENTITIES[entity]);
}

function attribute(attrs: string, name: string): string {
  return unescape(new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1] ?? "");
}

export function countJunit(xml: string): TestCounts {
  const cases: Case[] = [];
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    cases.push({
      suite: attribute(m[1], "classname"),
      name: attribute(m[1], "name"),
      body: m[2] ?? "",
    });
  }
  const names = new Set(cases.map((c) => `${c.suite}\u0000${c.name}`));
  const isStep = (c: Case) => {
    for (let i = c.name.indexOf(" > "); i > 0; i = c.name.indexOf(" > ", i + 1)) {
      if (names.has(`${c.suite}\u0000${c.name.slice(0, i)}`)) return true;
    }
    return false;
  };
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) {
    if (isStep(c)) continue;
    if (/<(failure|error)\b/.test(c.body)) counts.failed++;
    else if (/<skipped\b/.test(c.body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

/** The closing line CI reads, e.g. "tests: 12 passed, 0 failed". */
export function summaryLine(counts: TestCounts): string {
  const skipped = counts.skipped ? `, ${counts.skipped} skipped` : "";
  return `tests: ${counts.passed} passed, ${counts.failed} failed${skipped}`;
}
