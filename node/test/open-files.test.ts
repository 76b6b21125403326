/**
 * The process's open files against its limit, read from /proc: a fake /proc directory for the
 * parsing, and a real child process under a small `ulimit -n` for what "full" looks like (the
 * directory listing the files cannot itself be opened).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { countOpenFiles, readOpenFiles } from "../open-files.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeProc(limits: string, fds: number): string {
  const d = mkdtempSync(join(tmpdir(), "tf-proc-"));
  dirs.push(d);
  writeFileSync(join(d, "limits"), limits);
  mkdirSync(join(d, "fd"));
  for (let i = 0; i < fds; i++) writeFileSync(join(d, "fd", String(i)), "");
  return d;
}

const HEADER = "Limit                     Soft Limit           Hard Limit           Units     \n";

it("reads the soft and hard limits and the count", () => {
  const d = fakeProc(
    `${HEADER}Max open files            1024                 524288               files     \n`,
    7,
  );
  expect(readOpenFiles(d)).toEqual({ limit: 1024, hard: 524288, open: 7 });
  const u = fakeProc(
    `${HEADER}Max open files            unlimited            unlimited            files     \n`,
    3,
  );
  expect(readOpenFiles(u)).toEqual({
    limit: Number.POSITIVE_INFINITY,
    hard: Number.POSITIVE_INFINITY,
    open: 3,
  });
});

it("knows nothing where there is no /proc or no line for it", () => {
  expect(readOpenFiles(join(tmpdir(), "tf-no-such-proc"))).toBeUndefined();
  expect(countOpenFiles(join(tmpdir(), "tf-no-such-proc"))).toBeUndefined();
  expect(readOpenFiles(fakeProc(HEADER, 2))).toBeUndefined();
});

it.runIf(process.platform === "linux")(
  "counts a process at its limit as full",
  () => {
    // A child under `ulimit -n 40` opens files until the kernel refuses (EMFILE), then counts.
    const script = [
      'import { openSync } from "node:fs";',
      'import { countOpenFiles, readOpenFiles } from "./node/open-files.ts";',
      "const before = readOpenFiles();",
      'try { for (;;) openSync("/dev/null", "r"); } catch (e) { if (e.code !== "EMFILE") throw e; }',
      "console.log(JSON.stringify({ before, full: countOpenFiles() }));",
    ].join("\n");
    const r = spawnSync(
      "bash",
      ["-c", `ulimit -n 40 && exec "${process.execPath}" --import tsx --input-type=module -e '${script}'`],
      {
        cwd: ROOT,
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as { before: { limit: number; open: number }; full: unknown };
    expect(out.before.limit).toBe(40);
    expect(out.before.open).toBeLessThan(40);
    expect(out.full).toBe("full");
  },
  30_000,
);
