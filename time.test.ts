/**
 * One clock, enforced: outside the scheduler implementation (node/scheduler.ts), no source of the
 * layers reads the host's clock or sets a host timer. Everything asks an injected `Scheduler` — its
 * `now()`, `wallNow()` and `at()`, or `after`/`every`/`sleep` — so a run can be moved onto another
 * clock by passing another scheduler. What counts as the host's clock: `Date.now`, `new Date()`
 * without a value, `performance.now`, `performance.timeOrigin`, `process.hrtime`, and any reference
 * to `setTimeout`, `setInterval` or `setImmediate` (a call, an import, a function passed on). Tests
 * (`test/` folders, `*.test.ts`) may use the host's clock to drive what they test.
 *
 * The folders left out, each with its reason, are in OUTSIDE_THE_RULE; every folder with sources is
 * either checked or listed there, so a new folder is not left out silently.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = dirname(fileURLToPath(import.meta.url));
/** The folders whose sources must keep time through a scheduler. */
const CHECKED = ["protocol", "node", "sim", "twins", "fleet", "view", "console", "web", "sweep"];
/** The scheduler implementation: the one file that reads the host's clock and sets its timers. */
const IMPLEMENTATION = "node/scheduler.ts";
/** Folders with sources that are not checked, and why. */
const OUTSIDE_THE_RULE: Readonly<Record<string, string>> = {
  broker:
    "the embedded Aedes broker serves real sockets; its drain and admission timers go through its own injected clock (broker/outbound.ts) on unref'd host timers, and Aedes keeps timers of its own",
  cli: "the process's edge: log lines' dates, a one-shot command's wait for a broker's answer; it builds the real scheduler a run gets",
  bench: "harnesses that measure the host itself (wall time, CPU, event-loop lag)",
  interop: "tests against a real Mosquitto process",
  firmware: "the sketch's host tests and AVR build scripts",
  scripts: "the project's own check runners (the type check), run by npm, outside the layers",
};
const SKIP = new Set(["node_modules", "dist", "build", ".git", "test"]);
const CLOCK_READS = new Set(["Date.now", "performance.now", "performance.timeOrigin", "process.hrtime"]);
const HOST_TIMERS = new Set(["setTimeout", "setInterval", "setImmediate"]);

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") && !e.name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

/** `line: what` for every read of the host's clock or host timer in `text`; comments and strings do not count. */
function hostTimeUses(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const add = (node: ts.Node, what: string) =>
    found.push(`${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${what}`);
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      const text = `${node.expression.getText(sf)}.${node.name.text}`;
      if (CLOCK_READS.has(text)) add(node, text);
      else if (HOST_TIMERS.has(node.name.text)) add(node, text);
      else ts.forEachChild(node, visit);
      return;
    }
    if (ts.isNewExpression(node) && node.expression.getText(sf) === "Date" && !node.arguments?.length) {
      add(node, "new Date()");
    } else if (ts.isIdentifier(node) && HOST_TIMERS.has(node.text)) {
      add(node, node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe("one clock", () => {
  it("finds the host's clock and timers in code, not in comments or strings", () => {
    const text = [
      "// Date.now() and setTimeout in a comment",
      'const s = "performance.now()";',
      "const a = Date.now();",
      "const b = performance.now() - performance.timeOrigin;",
      "const t = setTimeout(() => {}, 1);",
      'import { setImmediate as next } from "node:timers";',
      "globalThis.setInterval(f, 5);",
      "const d = new Date();",
      "const kept = new Date(0);",
      "const h = process.hrtime.bigint();",
    ].join("\n");
    expect(hostTimeUses("x.ts", text)).toEqual([
      "3: Date.now",
      "4: performance.now",
      "4: performance.timeOrigin",
      "5: setTimeout",
      "6: setImmediate",
      "7: globalThis.setInterval",
      "8: new Date()",
      "10: process.hrtime",
    ]);
  });

  it("is kept by every checked source but the scheduler implementation", () => {
    const files = CHECKED.flatMap((d) => sources(join(ROOT, d)));
    const offenders = files.flatMap((path) => {
      const file = relative(ROOT, path).split(sep).join("/");
      if (file === IMPLEMENTATION) return [];
      return hostTimeUses(file, readFileSync(path, "utf8")).map((u) => `${file}:${u}`);
    });
    expect(offenders, `host clock or timers outside ${IMPLEMENTATION}; use the injected Scheduler`).toEqual(
      [],
    );
    // The scan sees them where they are: the implementation reads the clock and sets timers.
    const own = hostTimeUses(IMPLEMENTATION, readFileSync(join(ROOT, IMPLEMENTATION), "utf8")).map((u) =>
      u.replace(/^\d+: /, ""),
    );
    expect(own).toEqual(expect.arrayContaining(["performance.now", "setTimeout", "setImmediate"]));
  });

  it("covers every folder with sources, or says why it is left out", () => {
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !SKIP.has(e.name) && !e.name.startsWith("."))
      .map((e) => e.name)
      .filter((d) => sources(join(ROOT, d)).length > 0 || CHECKED.includes(d));
    const unaccounted = folders.filter((d) => !CHECKED.includes(d) && OUTSIDE_THE_RULE[d] === undefined);
    expect(unaccounted, "add each to CHECKED, or to OUTSIDE_THE_RULE with a reason").toEqual([]);
    for (const d of CHECKED) expect(folders, `${d}/ is checked but has no sources`).toContain(d);
  });
});
