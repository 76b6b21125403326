/**
 * The Kubernetes manifests in docs/k8s stay true to the CLI: every container that runs twinfleet
 * (`command: ["node", "dist/cli/bin.js"]` with its args, or a `sh -c` line that runs it) has its
 * command line put through the CLI's own parser — the command exists, each flag is one it takes,
 * no flag swallows another as its value, no operand too many — so a flag renamed or removed fails
 * here, naming the manifest and the container.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { checkFlagValues } from "../flag-values.js";
import { buildProgram } from "../main.js";

const K8S = join(import.meta.dirname, "..", "..", "docs", "k8s");
const BIN = ["node", "dist/cli/bin.js"];

interface Container {
  readonly name?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

/** The containers of every workload in a manifest's documents (a Job's, a Deployment's, a Pod's). */
function containers(text: string): Container[] {
  const out: Container[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join("; "));
    const v = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: unknown } } & Record<string, unknown>;
    };
    const pod = (v.kind === "Pod" ? v.spec : v.spec?.template?.spec) as
      | { containers?: Container[] }
      | undefined;
    out.push(...(pod?.containers ?? []));
  }
  return out;
}

/** The twinfleet argv a container runs, or undefined when it runs something else. */
function twinfleetArgv(c: Container): string[] | undefined {
  const command = c.command ?? [];
  const args = c.args ?? [];
  if (command.join(" ") === BIN.join(" ")) return [...args];
  if (command.join(" ") !== "sh -c") return undefined;
  // The first of a shell line's commands that runs the CLI, up to the next command or a pipe.
  const words = (args[0] ?? "").split(/\s+/);
  const at = words.findIndex((w, i) => w === BIN[0] && words[i + 1] === BIN[1]);
  if (at < 0) return undefined;
  const rest = words.slice(at + 2);
  const end = rest.findIndex((w) => ["&&", "||", ";", "|"].includes(w));
  return end < 0 ? rest : rest.slice(0, end);
}

/** What the CLI's parser refuses in `argv`, in words; empty when it takes it. */
function refused(argv: readonly string[]): string[] {
  const program = buildProgram({ stdout: () => {}, stderr: () => {} });
  let cmd: Command = program;
  let depth = 0;
  for (const w of argv) {
    const sub = cmd.commands.find((s) => s.name() === w);
    if (sub === undefined) break;
    cmd = sub;
    depth++;
  }
  const name = `twinfleet ${argv.slice(0, depth).join(" ")}`;
  if (depth === 0 || cmd.commands.length > 0) return [`no command "${argv.slice(0, depth + 1).join(" ")}"`];
  const problems: string[] = [];
  try {
    checkFlagValues(program, argv);
  } catch (e) {
    problems.push(`${name}: ${(e as Error).message}`);
  }
  const { operands, unknown } = cmd.parseOptions(argv.slice(depth));
  for (const u of unknown.filter((w) => w.startsWith("-"))) problems.push(`${name} has no ${u}`);
  const takes = cmd.registeredArguments;
  const extra = takes.some((a) => a.variadic) ? [] : [...operands, ...unknown].slice(takes.length);
  if (extra.length > 0 && unknown.every((w) => !w.startsWith("-")))
    problems.push(
      `${name} takes ${takes.length} operand${takes.length === 1 ? "" : "s"}, got ${extra.join(" ")} too`,
    );
  return problems;
}

it("runs only commands and flags the CLI has", () => {
  const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f));
  const wrong: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const c of containers(readFileSync(join(K8S, file), "utf8"))) {
      const argv = twinfleetArgv(c);
      if (argv === undefined) continue;
      checked++;
      for (const p of refused(argv)) wrong.push(`docs/k8s/${file} container ${c.name}: ${p}`);
    }
  }
  expect(wrong).toEqual([]);
  // The shards' Job and the merge's: a check that found no container would pass on anything.
  expect(checked).toBeGreaterThanOrEqual(2);
});

it("refuses a flag renamed, a flag taking another as its value, a command gone, an operand too many", () => {
  expect(refused(["sim", "--nodes", "10", "--shard-reports", "x.json"])).toEqual([
    "twinfleet sim has no --shard-reports",
  ]);
  expect(refused(["sim", "--seed", "--headless"])[0]).toContain("--seed");
  expect(refused(["report", "mix", "a.json"])).toEqual(['no command "report mix"']);
  expect(refused(["report", "show", "a.json", "b.json"])).toEqual([
    "twinfleet report show takes 1 operand, got b.json too",
  ]);
  expect(refused(["report", "merge", "/reports/shard-*.json", "--out", "f.json", "--assert"])).toEqual([]);
  expect(
    twinfleetArgv({
      command: ["sh", "-c"],
      args: ["cd /x && node dist/cli/bin.js report merge a b && echo ok"],
    }),
  ).toEqual(["report", "merge", "a", "b"]);
});
