// `twinfleet report merge … --out FILE` where FILE is one of the shard reports (by its name, or a
// link to it) is refused before anything is written: the merged report used to replace that shard's
// report, its presses and states with it, exit 0, and a second merge could not be made.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { fleetOfTwo } from "../../fleet/test/ring-of-four.js";
import { main } from "../main.js";

describe("report merge --out onto a shard report", () => {
  it("is refused with exit 2, naming the file, and every shard report is left as it was", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-merge-out-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const [s1, s2] = fleetOfTwo();
    const a = join(dir, "s1.json");
    const b = join(dir, "s2.json");
    writeFileSync(a, JSON.stringify(s1));
    writeFileSync(b, JSON.stringify(s2));
    const link = join(dir, "link.json");
    symlinkSync(a, link);
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void err.push(s) };
    expect(await main(["report", "merge", a, b, "--out", b], io)).toBe(2);
    expect(err.join("")).toContain(
      `--out: ${b} is one of the shard reports merged: the merged report would replace it, and with it the shard's presses and states, which no other file holds; give --out another file`,
    );
    err.length = 0;
    expect(await main(["report", "merge", a, b, "--out", link], io)).toBe(2);
    expect(err.join("")).toContain(`--out: ${link} is ${a}, one of the shard reports merged`);
    expect(readFileSync(a, "utf8")).toBe(JSON.stringify(s1));
    expect(readFileSync(b, "utf8")).toBe(JSON.stringify(s2));
    // Another file is written as before.
    expect(await main(["report", "merge", a, b, "--out", join(dir, "fleet.json")], io)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "fleet.json"), "utf8")).shards.count).toBe(2);
  });
});

describe("report merge with a file given twice, or an --out through a missing directory", () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-merge-twice-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const [s1, s2] = fleetOfTwo();
    const a = join(dir, "s1.json");
    const b = join(dir, "s2.json");
    writeFileSync(a, JSON.stringify(s1));
    writeFileSync(b, JSON.stringify(s2));
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => void err.push(s) };
    return { dir, a, b, err, io };
  };

  it("names the file given twice, by any spelling, exit 2", async () => {
    const { dir, a, err, io } = setup();
    // It read as two files both shard 1: `s1.json and s1.json are both shard 1 of 2`.
    expect(await main(["report", "merge", a, a], io)).toBe(2);
    expect(err.join("")).toContain(
      `twinfleet report merge: ${a} is given twice: give each shard's report once\n`,
    );
    err.length = 0;
    const other = `${dir}/./s1.json`;
    expect(await main(["report", "merge", a, other], io)).toBe(2);
    expect(err.join("")).toContain(`${other} is given twice (as ${a}): give each shard's report once`);
  });

  it("checks an --out through a missing directory and .. before merging, naming it, exit 2", async () => {
    const { dir, a, b, err, io } = setup();
    const out = `${join(dir, "x")}/../fleet.json`;
    // It merged, then failed with `--out: cannot write …: ENOENT`, exit 1.
    expect(await main(["report", "merge", a, b, "--out", out], io)).toBe(2);
    expect(err.join("")).toContain(
      `twinfleet report merge: --out: cannot write ${out}: ${join(dir, "x")}/.. has a directory before its .. that does not exist (ENOENT)`,
    );
    err.length = 0;
    // A directory on its way that is there: written as before.
    expect(
      await main(["report", "merge", a, b, "--out", `${dir}/../${dir.split("/").pop()}/f.json`], io),
    ).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "f.json"), "utf8")).shards.count).toBe(2);
  });
});
