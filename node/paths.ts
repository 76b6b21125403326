/**
 * Where the package's own files are — profiles, vectors, package.json, the modules a thread or a
 * child process starts — whether the code runs from the TypeScript sources or from the compiled
 * dist/ tree.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let root: string | undefined;

/** The directory holding twinfleet's package.json (not that of a compiled copy of its sources). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!ownPackage(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the twinfleet sources");
    dir = up;
  }
  root = dir;
  return dir;
}

function ownPackage(file: string): boolean {
  return existsSync(file) && JSON.parse(readFileSync(file, "utf8")).name === "twinfleet";
}

/**
 * Names a directory holding this package's sources compiled to JavaScript in their own layout (the
 * test suite makes one: a thread or process it starts then loads plain JavaScript rather than
 * compiling the sources again under tsx). Read only when running from the TypeScript sources.
 */
export const COMPILED_ENV = "TWINFLEET_COMPILED";

/** How to start one of the package's modules in a worker thread or a child process. */
export interface Startable {
  /** The module's file. */
  readonly url: URL;
  /** Node's options for it: tsx's loader when it is TypeScript. */
  readonly execArgv: readonly string[];
  /** TypeScript, run under tsx (an eval'd thread must register tsx itself). */
  readonly ts: boolean;
}

/**
 * The module at `rel` (its path from the code's root without extension, e.g. `sim/worker`): compiled
 * JavaScript beside this module when it runs from dist/, the TypeScript sources under tsx otherwise,
 * unless `TWINFLEET_COMPILED` names a compiled copy of them.
 */
export function startable(rel: string): Startable {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return { url: new URL(`../${rel}.js`, here), execArgv: [], ts: false };
  const compiled = process.env[COMPILED_ENV];
  if (compiled) return { url: pathToFileURL(join(compiled, `${rel}.js`)), execArgv: [], ts: false };
  return { url: new URL(`../${rel}.ts`, here), execArgv: ["--import", "tsx"], ts: true };
}
