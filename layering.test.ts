/**
 * The layering the README draws, enforced: every relative import of every .ts file is checked against
 * the layer order `protocol → node → sim / twins / broker → fleet / sweep → view → console / web → cli`.
 * A module imports from its own folder and from layers below; within a layer only the edges in
 * SAME_LAYER. Tests (`test/` folders, `*.test.ts`) may also import the other folders of their own
 * layer — an integration test of the twins runs a real broker — but never a layer above, and never
 * across a pair in APART: the terminal console and the web server are two views of the fleet that
 * share only `view/`. `bench/`, `interop/`, `firmware/` and `scripts/` are harnesses above every
 * layer: they may import any of it, and nothing imports them. Type-only imports count: a type from above is a dependency on above.
 * The code the package ships imports no test's module (a `test/` folder's), not even from below.
 * So does a module started by name in a thread or a process (`startable("sim/worker")`,
 * `threadSource("broker/worker")`, node/paths.ts): only the ones in STARTED_ABOVE may be above.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const LAYERS: readonly (readonly string[])[] = [
  ["protocol"],
  ["node"],
  ["sim", "twins", "broker"],
  ["fleet", "sweep"],
  ["view"],
  ["console", "web"],
  ["cli"],
];
/** Imports between folders of one layer that production code may make, with the reason. */
const SAME_LAYER: Readonly<Record<string, readonly string[]>> = {
  sweep: ["fleet"], // a sweep is made of fleet runs
};
/** Folders of one layer that may not import each other, not even in tests. */
const APART: Readonly<Record<string, readonly string[]>> = {
  console: ["web"],
  web: ["console"],
};
/**
 * Modules started by name from below their layer, with the reason: the file that names it and the
 * module it names.
 */
const STARTED_ABOVE: Readonly<Record<string, readonly string[]>> = {
  // A fleet's broker in a process of its own (--broker-data, kernel loss) is `twinfleet broker`.
  "fleet/broker-host.ts": ["cli/bin"],
  // How every test that runs the CLI in a process starts it (the suite's compiled copy or tsx).
  "node/test/cli-command.ts": ["cli/bin"],
  // Where a thread's and a process's module is found, from dist/ or the sources.
  "node/test/paths.test.ts": ["sim/worker", "cli/bin"],
};
/** A module started by name: `startable("x/y")` or `threadSource("x/y")`, the name from the root. */
const STARTED = /\b(?:startable|threadSource)\(\s*"([^"]+)"/g;
const HARNESSES = new Set(["bench", "interop", "firmware", "scripts"]);
const ROOT = dirname(fileURLToPath(import.meta.url));
const SKIP = new Set(["node_modules", "dist", "build", ".git"]);

interface Violation {
  readonly file: string;
  readonly line: number;
  readonly spec: string;
  readonly rule: string;
}

const layerOf = (folder: string): number => LAYERS.findIndex((l) => l.includes(folder));
const describeLayer = (i: number): string => `layer ${i + 1}: ${LAYERS[i]?.join(" / ")}`;

/** What `folder` may import, for the message. */
function allowed(folder: string, isTest: boolean): string {
  const i = layerOf(folder);
  const below = LAYERS.slice(0, i).flat();
  const peers = isTest ? (LAYERS[i] ?? []).filter((f) => f !== folder) : (SAME_LAYER[folder] ?? []);
  const list = [...below, ...peers];
  return list.length === 0 ? "nothing outside itself" : `only ${list.join(", ")}`;
}

/**
 * The rule an import from `file` (relative to the root, `/`-separated) of `spec` breaks, if any.
 * Package imports (no leading `.`) are not layered.
 */
function checkImport(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const from = file.split("/")[0] ?? "";
  const target = normalize(join(dirname(file), spec))
    .split(sep)
    .join("/");
  if (target.startsWith("..")) return `it reaches outside the package (${target})`;
  const to = target.includes("/") ? (target.split("/")[0] ?? "") : "";
  const isTest = /(^|\/)test\//.test(file) || file.endsWith(".test.ts");
  if (!isTest && !HARNESSES.has(from) && /(^|\/)test\//.test(target))
    return `${target} is a test's module; the code the package ships may not import it`;
  if (to === from) return undefined;
  if (to === "" || HARNESSES.has(to))
    return `${to === "" ? "a root module" : `${to}/`} is a harness above the layers; nothing may import it`;
  if (HARNESSES.has(from)) return layerOf(to) < 0 ? `${to}/ is not in the layer table` : undefined;
  const fromLayer = layerOf(from);
  const toLayer = layerOf(to);
  if (fromLayer < 0) return `${from}/ is not in the layer table; add it to LAYERS in layering.test.ts`;
  if (toLayer < 0) return `${to}/ is not in the layer table; add it to LAYERS in layering.test.ts`;
  if (APART[from]?.includes(to))
    return `${from}/ imports ${to}/: the two views of the fleet share only view/ and never import each other`;
  if (toLayer < fromLayer) return undefined;
  if (toLayer === fromLayer && (isTest || SAME_LAYER[from]?.includes(to))) return undefined;
  const where = toLayer > fromLayer ? "a layer above" : "the same layer";
  return `${from}/ (${describeLayer(fromLayer)}) imports ${to}/, ${where} (${describeLayer(toLayer)}); ${from}/${isTest ? "'s tests" : ""} may import ${allowed(from, isTest)}`;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Every import against the layers in the tree under `root`. Root modules (configs) are not layered. */
function violations(root: string): Violation[] {
  const found: Violation[] = [];
  for (const path of sources(root)) {
    const file = relative(root, path).split(sep).join("/");
    if (!file.includes("/")) continue;
    const text = readFileSync(path, "utf8");
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      const rule = checkImport(file, ref.fileName);
      if (!rule) continue;
      const line = text.slice(0, ref.pos).split("\n").length;
      found.push({ file, line, spec: ref.fileName, rule });
    }
    for (const m of text.matchAll(STARTED)) {
      const name = m[1] ?? "";
      if (STARTED_ABOVE[file]?.includes(name)) continue;
      const spec = relative(dirname(file), name).split(sep).join("/");
      const rule = checkImport(file, spec.startsWith(".") ? spec : `./${spec}`);
      if (!rule) continue;
      const line = text.slice(0, m.index).split("\n").length;
      found.push({ file, line, spec: name, rule: `it starts ${name} by name: ${rule}` });
    }
  }
  return found;
}

describe("the layering", () => {
  it("names the file, the import and the rule of an import against the layers", () => {
    expect(checkImport("fleet/summarize.ts", "../cli/version.js")).toBe(
      "fleet/ (layer 4: fleet / sweep) imports cli/, a layer above (layer 7: cli); fleet/ may import only protocol, node, sim, twins, broker",
    );
    expect(checkImport("sim/worker.ts", "../twins/index.js")).toMatch(/imports twins\/, the same layer/);
    expect(checkImport("sweep/test/x.test.ts", "../../cli/main.js")).toMatch(/sweep\/'s tests may import/);
    expect(checkImport("node/x.ts", "../bench/run.js")).toMatch(/bench\/ is a harness/);
    expect(checkImport("gui/x.ts", "../node/x.js")).toMatch(/gui\/ is not in the layer table/);
    expect(checkImport("view/sim-source.ts", "../console/app.js")).toMatch(
      /imports console\/, a layer above/,
    );
    expect(checkImport("view/x.ts", "../web/server.js")).toMatch(/imports web\/, a layer above/);
    expect(checkImport("console/app.ts", "../web/server.js")).toMatch(/never import each other/);
    expect(checkImport("web/test/x.test.ts", "../../console/app.js")).toMatch(/never import each other/);
    expect(checkImport("fleet/x.ts", "../twins/test/helpers.js")).toMatch(/is a test's module/);
    expect(checkImport("fleet/x.ts", "./test/fixture.js")).toMatch(/is a test's module/);
  });

  it("lets a module import its own folder, the layers below and its own layer's listed edges", () => {
    for (const [file, spec] of [
      ["fleet/run.ts", "./options.js"],
      ["fleet/faults/runner.ts", "../../sim/checker.js"],
      ["view/sim-source.ts", "../fleet/run.js"],
      ["console/app.ts", "../view/source.js"],
      ["web/server.ts", "../view/source.js"],
      ["web/server.ts", "../twins/index.js"],
      ["cli/commands/sim-run.ts", "../../web/index.js"],
      ["sweep/point.ts", "../fleet/run.js"],
      ["cli/commands/sim-run.ts", "../../console/sim-console.js"],
      ["twins/test/presence.test.ts", "../../broker/index.js"],
      ["bench/overhead.ts", "../cli/main.js"],
      ["node/x.ts", "mqtt"],
    ] as const) {
      expect(checkImport(file, spec), `${file} → ${spec}`).toBeUndefined();
    }
  });

  it("counts a module started by name in a thread or a process as an import", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-layering-"));
    try {
      mkdirSync(join(dir, "twins"));
      writeFileSync(join(dir, "twins", "x.ts"), 'const w = threadSource("fleet/worker");\n');
      writeFileSync(join(dir, "twins", "y.ts"), 'const w = startable("broker/worker");\n');
      expect(violations(dir)).toEqual([
        {
          file: "twins/x.ts",
          line: 1,
          spec: "fleet/worker",
          rule: expect.stringMatching(
            /^it starts fleet\/worker by name: twins\/ .* imports fleet\/, a layer above/,
          ),
        },
        {
          file: "twins/y.ts",
          line: 1,
          spec: "broker/worker",
          rule: expect.stringMatching(/imports broker\/, the same layer/),
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("holds for every import in the tree", () => {
    const found = violations(ROOT).map((v) => `${v.file}:${v.line} imports "${v.spec}": ${v.rule}`);
    expect(found, `imports against the layers:\n${found.join("\n")}`).toEqual([]);
  });
});
