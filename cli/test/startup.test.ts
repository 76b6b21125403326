/**
 * What every `twinfleet` process loads before it knows its command: the static import graph from
 * cli/bin.ts (static `import` and `export … from`; not `import type`, which is erased, nor `import()`,
 * which runs when the action does). Declaring the commands (options, help) must stay light: the
 * broker, the fleet, the console, the sweep and the web server are loaded by the action that runs them
 * (cli/commands/<cmd>-run.ts), so `--version`, `--help` and a spawned `twinfleet broker` do not pay
 * for all of them.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Packages none of the declarations may load: the servers, clients, stores and the terminal UI. */
const HEAVY_PACKAGES = [
  /^aedes/,
  /^blessed$/,
  /^piscina$/,
  /^mqtt/,
  /level/,
  /^ioredis$/,
  /^prom-client$/,
  /^fastify/,
  /^ws$/,
];
/** Project modules none of the declarations may load (files, or folders ending in `/`). */
const HEAVY_MODULES = ["fleet/run.ts", "console/", "sweep/", "web/", "broker/", "twins/"];

/** The module specifiers `text` loads when it is evaluated: static, and not type-only. */
function staticImports(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specs: string[] = [];
  for (const st of source.statements) {
    if (ts.isImportDeclaration(st) && st.importClause?.isTypeOnly !== true) {
      specs.push((st.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier !== undefined) {
      specs.push((st.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specs;
}

/** The modules `text` loads with `import("…")` of a literal name, wherever it does. */
function dynamicImports(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specs: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [spec] = node.arguments;
      if (spec !== undefined && ts.isStringLiteral(spec)) specs.push(spec.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specs;
}

interface Graph {
  /** Every project file reached (root-relative, `/`-separated), with the file that first imported it. */
  readonly files: ReadonlyMap<string, string | undefined>;
  /** Every package reached, with the file that first imported it. */
  readonly packages: ReadonlyMap<string, string>;
}

/**
 * Walks the static imports from `entry`, and the entry's own import()s (cli/bin.ts loads the CLI with
 * import(), at once, after it has made SIGHUP harmless: cli/early-hang-ups.ts); `read` gives a
 * root-relative file's text.
 */
function importGraph(entry: string, read: (file: string) => string): Graph {
  const files = new Map<string, string | undefined>([[entry, undefined]]);
  const packages = new Map<string, string>();
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (!file.endsWith(".ts")) continue; // JSON and other assets import nothing
    const text = read(file);
    const loaded = staticImports(file, text).concat(file === entry ? dynamicImports(file, text) : []);
    for (const spec of loaded) {
      if (spec.startsWith(".")) {
        // Sources import each other by their emitted name (`./x.js`): the source is `./x.ts`.
        const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, ".ts");
        if (!files.has(target)) {
          files.set(target, file);
          queue.push(target);
        }
      } else if (!spec.startsWith("node:")) {
        const name = spec
          .split("/")
          .slice(0, spec.startsWith("@") ? 2 : 1)
          .join("/");
        if (!packages.has(name)) packages.set(name, file);
      }
    }
  }
  return { files, packages };
}

/** `bin.ts → main.ts → …` down to `file`. */
function chain(graph: Graph, file: string | undefined): string {
  const path: string[] = [];
  for (let f = file; f !== undefined; f = graph.files.get(f)) path.unshift(f);
  return path.join(" → ");
}

/** Every heavy package or module the graph reaches, each with the chain of imports that reaches it. */
function heavyReached(graph: Graph): string[] {
  const found: string[] = [];
  for (const [name, by] of graph.packages) {
    if (HEAVY_PACKAGES.some((p) => p.test(name))) found.push(`${name}: ${chain(graph, by)}`);
  }
  for (const file of graph.files.keys()) {
    if (HEAVY_MODULES.some((m) => (m.endsWith("/") ? file.startsWith(m) : file === m))) {
      found.push(`${file}: ${chain(graph, file)}`);
    }
  }
  return found;
}

const readSource = (file: string): string => {
  const path = join(ROOT, file);
  if (!existsSync(path)) throw new Error(`${file} is imported but does not exist`);
  return readFileSync(path, "utf8");
};

describe("what every twinfleet process loads before it runs a command", () => {
  it("is the declarations only: no broker, fleet run, console, sweep or web server, none of their packages", () => {
    const graph = importGraph("cli/bin.ts", readSource);
    // The walk did reach the declarations (it is not empty because it stopped early).
    expect([...graph.files.keys()]).toEqual(
      expect.arrayContaining(["cli/main.ts", "cli/commands/sim.ts", "cli/commands/broker.ts"]),
    );
    const heavy = heavyReached(graph);
    expect(
      heavy,
      `a command's declaration imports what its action runs; load it in the action with await import():\n${heavy.join("\n")}`,
    ).toEqual([]);
  });

  it("reaches the heavy modules from the actions, so the check above looks where they are", () => {
    const heavy = heavyReached(importGraph("cli/commands/sim-run.ts", readSource));
    expect(heavy.some((h) => h.startsWith("fleet/run.ts: cli/commands/sim-run.ts → fleet/run.ts"))).toBe(
      true,
    );
    expect(heavy.some((h) => h.startsWith("piscina:"))).toBe(true);
    const broker = heavyReached(importGraph("cli/commands/broker-run.ts", readSource));
    expect(broker).toEqual(expect.arrayContaining([expect.stringMatching(/^aedes: /)]));
    // The broker itself loads its store's packages with import() when a store needs them.
    expect(
      broker.filter((h) => /^(ioredis|classic-level|aedes-persistence-(level|redis)): /.test(h)),
    ).toEqual([]);
    expect(heavyReached(importGraph("cli/commands/monitor-run.ts", readSource))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^blessed: /), expect.stringMatching(/^console\//)]),
    );
  });

  it("follows static imports, re-exports and the entry's import(), and neither type-only imports nor an action's import()", () => {
    const tree: Record<string, string> = {
      "cli/bin.ts": 'import { main } from "./main.js";\nexport { x } from "./x.js";\nawait import("./y.js");',
      "cli/main.ts": [
        'import type { FleetRun } from "../fleet/run.js";',
        'export type { Sweep } from "../sweep/sweep.js";',
        'import { type Twins } from "../twins/index.js";',
        'const later = () => import("../console/index.js");',
        'import "node:fs";',
        'import { Command } from "commander";',
      ].join("\n"),
      "cli/x.ts": 'export * from "@fastify/static/x.js";\nimport pino from "pino";',
      "cli/y.ts": 'import "../broker/server.js";',
      "broker/server.ts": "",
      "twins/index.ts": 'import mqtt from "mqtt";',
    };
    const graph = importGraph("cli/bin.ts", (f) => tree[f] ?? "");
    // The entry's own import() runs at once: followed; main.ts's, in an action: not.
    expect([...graph.files.keys()].sort()).toEqual([
      "broker/server.ts",
      "cli/bin.ts",
      "cli/main.ts",
      "cli/x.ts",
      "cli/y.ts",
      "twins/index.ts",
    ]);
    expect([...graph.packages.keys()].sort()).toEqual(["@fastify/static", "commander", "mqtt", "pino"]);
    // `import { type T }` keeps the module (verbatimModuleSyntax emits `import {} from`): it counts.
    expect(heavyReached(graph)).toEqual([
      "mqtt: cli/bin.ts → cli/main.ts → twins/index.ts",
      "twins/index.ts: cli/bin.ts → cli/main.ts → twins/index.ts",
      "broker/server.ts: cli/bin.ts → cli/y.ts → broker/server.ts",
    ]);
  });
});

describe("a service's SIGHUP while the CLI loads", () => {
  it("is held before anything else loads: cli/bin.ts imports the hold alone, and the hold imports nothing", () => {
    // Static imports all load before the first line runs: the rest comes with import() after it.
    expect(staticImports("cli/bin.ts", readSource("cli/bin.ts"))).toEqual(["./early-hang-ups.js"]);
    expect(staticImports("cli/early-hang-ups.ts", readSource("cli/early-hang-ups.ts"))).toEqual([]);
  });
});
