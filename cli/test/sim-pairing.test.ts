// `twinfleet sim --topology FILE.json` with a bad pairing file: refused before anything starts,
// naming the file, the line and the problem, with the usage hint and exit code 2.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { main } from "../main.js";

describe("twinfleet sim --topology FILE.json", () => {
  it("refuses a bad pairing file naming the file, the line and the problem", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-pairs-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "pairs.json");
    writeFileSync(file, '{\n  "n-0001": ["n-0000"],\n  "n-0002": ["n-0000", "n-0009"]\n}\n');
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["sim", "--headless", "--nodes", "6", "--topology", file], {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
    });
    expect(code).toBe(2);
    expect(err.join("")).toBe(
      `twinfleet sim: --topology: pairing file ${file}, line 3: source n-0009 of n-0002 is not a node of this fleet (n-0000 … n-0005)\n(run twinfleet sim --help for usage)\n`,
    );
    expect(out.join("")).toBe("");
  });
});
