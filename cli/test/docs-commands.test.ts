/**
 * The docs' command lines stay true: every `twinfleet …` line in README.md, firmware/README.md and
 * docs/*.md (code blocks and inline code) names a command that exists, and every `--flag` on it is
 * one that command (or the program) takes. A flag renamed or removed fails here, naming the line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { expect, it } from "vitest";
import { buildProgram } from "../main.js";

const ROOT = join(import.meta.dirname, "..", "..");
const program = buildProgram({ stdout: () => {}, stderr: () => {} });

/** A command-shaped word: what follows `twinfleet` when it names a command. */
const WORD = /^[a-z][a-z-]*$/;

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f));
  return ["README.md", join("firmware", "README.md"), ...docs];
}

/** The text after `twinfleet ` of each command line in a Markdown file, with its line number. */
function commandLines(text: string): { line: number; words: string }[] {
  const out: { line: number; words: string }[] = [];
  let inCode = false;
  text.split("\n").forEach((line, i) => {
    if (line.trim().startsWith("```")) {
      inCode = !inCode;
      return;
    }
    const spans = [...(inCode ? [line] : []), ...[...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? "")];
    for (const s of spans) {
      const m = s.match(/(?:^|[\s;&|(])twinfleet\s+(.*)$/);
      if (m?.[1] !== undefined) out.push({ line: i + 1, words: m[1] });
    }
  });
  return out;
}

/** What is wrong with one command line, if anything. */
function problems(words: string): string[] {
  const parts = words.split(/\s+/);
  let cmd: Command = program;
  let depth = 0;
  for (const w of parts) {
    const sub = cmd.commands.find((s) => s.name() === w || s.aliases().includes(w));
    if (sub === undefined) break;
    cmd = sub;
    depth++;
  }
  if (depth === 0) return WORD.test(parts[0] ?? "") ? [`no command "${parts[0]}"`] : [];
  // A log line or an error message quoted (`twinfleet report merge: --out: …`) is not a command line.
  if ((parts[depth] ?? "").endsWith(":")) return [];
  const known = new Set<string>(["--help"]);
  for (const o of [...cmd.options, ...program.options]) {
    if (o.long !== undefined) known.add(o.long);
    if (o.short !== undefined) known.add(o.short);
  }
  // The command's own flags end at a pipe to another program or a shell comment.
  const own = words.split(/ \| | #|&&|;/)[0] ?? "";
  return [...own.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)]
    .map((m) => m[0])
    .filter((f) => !known.has(f))
    .map((f) => `twinfleet ${parts.slice(0, depth).join(" ")} has no ${f}`);
}

it("names only commands and flags the CLI has", () => {
  const wrong: string[] = [];
  let lines = 0;
  for (const file of docFiles()) {
    for (const { line, words } of commandLines(readFileSync(join(ROOT, file), "utf8"))) {
      lines++;
      for (const p of problems(words)) wrong.push(`${file}:${line}: ${p}`);
    }
  }
  expect(wrong).toEqual([]);
  // The docs show the CLI at work: a check that read none would pass on anything.
  expect(lines).toBeGreaterThan(200);
});

it("tells a flag a command does not take and a command that does not exist", () => {
  expect(problems("sim --nodes 5 --nodez 5")).toEqual(["twinfleet sim has no --nodez"]);
  expect(problems("report merge --out r.json --in x")).toEqual(["twinfleet report merge has no --in"]);
  expect(problems("simulate --nodes 5")).toEqual(['no command "simulate"']);
  expect(problems("sim --nodes 5 --report /dev/stdout | jq --raw-output .sync")).toEqual([]);
});
