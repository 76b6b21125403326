/**
 * The one reader of a file the user named: every way it fails reads the same
 * (`<what>: cannot read <path>: <why>`), an endless device or an oversized file is refused at its
 * cap instead of read, and a FIFO is refused instead of waited on.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OptionError } from "../option-error.js";
import { SHOWN_MAX, shown, shownPath } from "../shown.js";
import { FILE_LIMITS, readProblem, readUserFile, readUserText, UserFileError } from "../user-file.js";

const dir = mkdtempSync(join(tmpdir(), "tf-user-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read =
  (path: string, maxBytes = 1024) =>
  () =>
    readUserFile(path, { what: "--faults", maxBytes });

describe("readUserFile", () => {
  it("reads a file, and its text without a byte-order mark", () => {
    const file = join(dir, "ok.json");
    writeFileSync(file, "\uFEFF{}");
    expect(readUserText(file, { maxBytes: 16 })).toBe("{}");
    expect(readUserFile(file, { maxBytes: 5 }).length).toBe(5);
  });

  it("names a missing file, a directory, a missing directory on the way and an empty path", () => {
    expect(read(join(dir, "none.json"))).toThrow(`--faults: cannot read ${dir}/none.json: no such file`);
    expect(read(dir)).toThrow(`--faults: cannot read ${dir}: is a directory`);
    const file = join(dir, "plain");
    writeFileSync(file, "x");
    expect(read(join(file, "x.json"))).toThrow(
      `--faults: cannot read ${file}/x.json: a part of the path is not a directory`,
    );
    expect(read("")).toThrow('--faults: cannot read "": the path is empty');
  });

  it("refuses a file over its cap, and an endless device at the cap", () => {
    const big = join(dir, "big.json");
    writeFileSync(big, Buffer.alloc(2 << 20, 0x20));
    expect(() => readUserFile(big, { what: "--profile", maxBytes: FILE_LIMITS.settings })).toThrow(
      `--profile: cannot read ${big}: larger than 1 MB`,
    );
    expect(read("/dev/zero", 100_000)).toThrow("--faults: cannot read /dev/zero: larger than 100000 bytes");
    expect(read("/dev/null")().length).toBe(0);
  });

  it("refuses a FIFO instead of waiting for a writer", () => {
    const fifo = join(dir, "pipe.json");
    execFileSync("mkfifo", [fifo]);
    expect(read(fifo)).toThrow(`--faults: cannot read ${fifo}: is a FIFO, not a file`);
  });

  it("words permission denied from its errno (root reads any file, so the errno is given here)", () => {
    expect(readProblem(Object.assign(new Error("x"), { code: "EACCES" }))).toBe("permission denied");
    expect(readProblem(Object.assign(new Error("x"), { code: "EIO" }))).toBe("EIO");
    const locked = join(dir, "locked.json");
    writeFileSync(locked, "{}");
    chmodSync(locked, 0o000);
    const uid = process.getuid?.() ?? 0;
    if (uid !== 0) expect(read(locked)).toThrow(`--faults: cannot read ${locked}: permission denied`);
    else expect(read(locked)().toString()).toBe("{}");
  });

  it("throws an OptionError, or the caller's own error, with the same words", () => {
    const missing = join(dir, "gone.json");
    expect(read(missing)).toThrow(UserFileError);
    expect(read(missing)).toThrow(OptionError);
    class MineError extends Error {}
    expect(() => readUserFile(missing, { maxBytes: 1, error: (m) => new MineError(m) })).toThrow(
      new MineError(`cannot read ${missing}: no such file`),
    );
  });

  it("quotes a long or odd path cut short", () => {
    const long = join(dir, "d".repeat(5_000));
    expect(read(long)).toThrow(
      new UserFileError(`--faults: cannot read "${long.slice(0, SHOWN_MAX)}…": the name is too long`),
    );
  });
});

describe("shown", () => {
  it("quotes a value, escapes control characters and cuts it after SHOWN_MAX characters", () => {
    expect(shown("abc")).toBe('"abc"');
    expect(shown("a\u001bb")).toBe('"a\\u001bb"');
    expect(shown("x".repeat(10_240))).toBe(`"${"x".repeat(SHOWN_MAX)}…"`);
    // An escape counts as written and is never split.
    const esc = shown("\u001b".repeat(100));
    expect(esc).toBe(`"${"\\u001b".repeat(10)}…"`);
    // A character outside the BMP is never split in two.
    expect(shown(`${"x".repeat(SHOWN_MAX - 1)}😀😀`)).toBe(`"${"x".repeat(SHOWN_MAX - 1)}…"`);
  });

  it("names a plain short path bare, anything else quoted", () => {
    expect(shownPath("/tmp/a.json")).toBe("/tmp/a.json");
    expect(shownPath("my file.json")).toBe('"my file.json"');
    expect(shownPath("a\nb")).toBe('"a\\nb"');
    expect(shownPath("")).toBe('""');
  });
});
