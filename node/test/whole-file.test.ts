/**
 * Output files written whole and durably: a new file and a replaced one come out complete with no
 * temporary file left, the data synced before the rename and the directory after it; a write that
 * fails leaves the file before it; a symbolic link keeps pointing at the new file; a path that is
 * not a regular file (a pipe) is written in place, not replaced.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { startable } from "../paths.js";

const calls: string[] = [];
let failWrite = false;

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const paths = new Map<number, string>();
  return {
    ...real,
    openSync: (path: string, flags: string) => {
      const fd = real.openSync(path, flags);
      paths.set(fd, path);
      return fd;
    },
    writeFileSync: (file: number | string, data: string) => {
      if (failWrite) {
        // As a full disk fails it: a path is opened (truncated) first, then the write fails.
        if (typeof file === "string") real.writeFileSync(file, "");
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      real.writeFileSync(file, data);
    },
    fsyncSync: (fd: number) => {
      calls.push(`sync ${paths.get(fd)}`);
      real.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      calls.push(`rename ${to}`);
      real.renameSync(from, to);
    },
  };
});

const { writeFileWhole } = await import("../whole-file.js");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tf-whole-"));
  calls.length = 0;
  failWrite = false;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it("writes a new file and replaces one, syncing the data before the rename and the directory after", () => {
  const path = join(dir, "report.json");
  writeFileWhole(path, "one\n");
  writeFileWhole(path, "two\n");
  expect(readFileSync(path, "utf8")).toBe("two\n");
  expect(readdirSync(dir)).toEqual(["report.json"]);
  expect(calls).toHaveLength(6);
  expect(calls[0]).toMatch(/^sync .*\/\.twinfleet-\d+-\d+\.tmp$/);
  expect(calls.slice(1, 3)).toEqual([`rename ${path}`, `sync ${dir}`]);
});

it("leaves the file before it when the write fails, and no temporary file", () => {
  const path = join(dir, "report.json");
  writeFileSync(path, "before\n");
  failWrite = true;
  expect(() => writeFileWhole(path, "after\n")).toThrow(/ENOSPC/);
  expect(readFileSync(path, "utf8")).toBe("before\n");
  expect(readdirSync(dir)).toEqual(["report.json"]);
});

it("replaces a symbolic link's target, keeping the link", () => {
  const target = join(dir, "real.json");
  const link = join(dir, "latest.json");
  writeFileSync(target, "old\n");
  symlinkSync(target, link);
  writeFileWhole(link, "new\n");
  expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  expect(readFileSync(target, "utf8")).toBe("new\n");
});

it("writes into a pipe in place instead of replacing it", async () => {
  const fifo = join(dir, "pipe");
  execFileSync("mkfifo", [fifo]);
  const reader = spawn("cat", [fifo]);
  let got = "";
  reader.stdout.on("data", (d: Buffer) => {
    got += d.toString();
  });
  const ended = new Promise((resolve) => reader.on("close", resolve));
  writeFileWhole(fifo, "through the pipe\n");
  await ended;
  expect(got).toBe("through the pipe\n");
  expect(fs.statSync(fifo).isFIFO()).toBe(true);
  expect(calls).toEqual([]);
});

it("writes to /dev/stdout piped into another command in place (a pipe's real path is no path)", () => {
  const mod = startable("node/whole-file");
  const code = `import { writeFileWhole } from ${JSON.stringify(mod.url.href)}; writeFileWhole("/dev/stdout", "through stdout\\n");`;
  const node = [process.execPath, ...mod.execArgv, "--input-type=module", "-e", code]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(" ");
  expect(execFileSync("bash", ["-c", `set -o pipefail; ${node} | cat`], { encoding: "utf8" })).toBe(
    "through stdout\n",
  );
});
