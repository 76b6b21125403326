// A password from a file or stdin is one line of text no longer than an MQTT CONNECT carries: an
// endless or binary source is refused by name after reading at most that much.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { resolvePassword } from "../connection.js";
import { fileFirstLine, MAX_PASSWORD_BYTES, passwordProblem, streamFirstLine } from "../password-text.js";

const dir = mkdtempSync(join(tmpdir(), "tf-pw-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe("a password read from a file or stdin", () => {
  it("is the first line, without its line end", async () => {
    expect(fileFirstLine(file("crlf", "hunter2\r\nsecond\n"))).toEqual({ line: "hunter2", cut: false });
    expect(fileFirstLine(file("bare", "hunter2"))).toEqual({ line: "hunter2", cut: false });
    expect(await streamFirstLine(Readable.from([Buffer.from("hun"), Buffer.from("ter2\nmore")]))).toEqual({
      line: "hunter2",
      cut: false,
    });
  });

  it("stops reading an endless source past the longest password", async () => {
    expect(fileFirstLine("/dev/zero").cut).toBe(true);
    let served = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          served += 16_384;
          yield Buffer.alloc(16_384, 0x61);
        }
      })(),
    );
    expect((await streamFirstLine(endless)).cut).toBe(true);
    expect(served).toBeLessThan(MAX_PASSWORD_BYTES + 3 * 16_384);
  });

  it("names what makes a line no password: its length or a control character", () => {
    expect(passwordProblem("a\tb c")).toBeUndefined();
    expect(passwordProblem("x".repeat(MAX_PASSWORD_BYTES))).toBeUndefined();
    expect(passwordProblem("x".repeat(MAX_PASSWORD_BYTES + 1))).toMatch(/65536 bytes long: an MQTT CONNECT/);
    expect(passwordProblem("é".repeat(40_000))).toMatch(/80000 bytes long/);
    expect(passwordProblem("a\u0000b")).toBe(
      "holds a control character (U+0000 at character 2): is it a text file?",
    );
  });

  it("is refused by --password-file with the file and the reason", () => {
    const resolve = (path: string) => () => resolvePassword({ passwordFile: path }, {});
    expect(resolve("/dev/zero")).toThrow(
      "--password-file: /dev/zero: its first line is longer than 65535 bytes",
    );
    expect(resolve(file("nul", Buffer.from([0x61, 0, 0x62, 0x0a])))).toThrow(
      /the password on its first line holds a control character \(U\+0000 at character 2\)/,
    );
    expect(resolve(file("empty", "\nsecond\n"))).toThrow("has no password on its first line");
    expect(resolve(join(dir, "missing"))).toThrow("--password-file: cannot read");
    expect(resolvePassword({ passwordFile: file("ok", "pw\n") }, {})).toBe("pw");
  });
});
