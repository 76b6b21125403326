// Where the package's files are: its own root (not that of a compiled copy of its sources), and the
// module a thread or a process starts: the sources under tsx, or the compiled copy the environment
// names.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { COMPILED_ENV, packageRoot, startable } from "../paths.js";

const before = process.env[COMPILED_ENV];
afterEach(() => {
  if (before === undefined) delete process.env[COMPILED_ENV];
  else process.env[COMPILED_ENV] = before;
});

describe("the package's paths", () => {
  it("finds the root whose package.json is twinfleet's", () => {
    const root = packageRoot();
    expect(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).name).toBe("twinfleet");
    expect(existsSync(join(root, "profiles", "devices"))).toBe(true);
  });

  it("starts the TypeScript sources under tsx when no compiled copy is named", () => {
    delete process.env[COMPILED_ENV];
    const m = startable("sim/worker");
    expect(fileURLToPath(m.url)).toBe(join(packageRoot(), "sim", "worker.ts"));
    expect(m).toMatchObject({ execArgv: ["--import", "tsx"], ts: true });
  });

  it("starts the compiled copy's JavaScript when one is named", () => {
    process.env[COMPILED_ENV] = "/somewhere/compiled";
    const m = startable("cli/bin");
    expect(fileURLToPath(m.url)).toBe("/somewhere/compiled/cli/bin.js");
    expect(m).toMatchObject({ execArgv: [], ts: false });
  });
});
