/**
 * The open files a command needs to start, against the process's limit (cli/file-limit.ts): a limit
 * below a command's need is said before anything loads, and an EMFILE while loading (which Node told
 * as `Cannot find package '…/node_modules/mqtt-packet/index.js'`) is told as the limit it is. The
 * limits are an injected /proc/self/limits text and error objects; one real process checks the end
 * to end under `ulimit -n`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import {
  commandWords,
  fileLimitError,
  GLOBAL_VALUE_OPTIONS,
  isFileLimitError,
  namedFileThere,
  START_FILES,
  softFileLimit,
  startNeed,
  tooFewFiles,
} from "../file-limit.js";
import { buildProgram } from "../main.js";

const limits = (soft: string, hard = soft) =>
  "Limit                     Soft Limit           Hard Limit           Units     \n" +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

/** An error as Node's loader makes it. */
const coded = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("the limit at start", () => {
  it("reads the soft limit; unlimited or absent is unknown", () => {
    expect(softFileLimit(limits("100", "4096"))).toBe(100);
    expect(softFileLimit(limits("unlimited"))).toBeUndefined();
    expect(softFileLimit(undefined)).toBeUndefined();
  });

  it("stops a service under its need, naming the limit, the need and how to raise it", () => {
    const twins = ["twins", "--broker", "mqtt://127.0.0.1:1883", "--data", "d", "--http", "8080"];
    expect(tooFewFiles(twins, limits("100"))).toBe(
      "the open-files limit is too low: this process may open 100 files (ulimit -n) and twinfleet twins needs at least 136 to start: raise it before starting (as root `ulimit -n 136`, LimitNOFILE=136 in a systemd unit, --ulimit nofile=136 for a container)",
    );
    expect(tooFewFiles(["sim", "--broker", "mqtt://h"], limits("180"))).toContain(
      "twinfleet sim needs at least 352 to start",
    );
    expect(tooFewFiles(["broker", "--data", "b"], limits("127"))).toContain("needs at least 128");
    expect(tooFewFiles(["monitor", "--broker", "mqtt://h"], limits("40"))).toContain("may open 40 files");
  });

  it("stops every other command under its own need: a subcommand's is its own", () => {
    // Each said `ulimit -n` with no figure, having run short while loading (docs/cli.md's table).
    expect(tooFewFiles(["broker", "hash-password"], limits("120"))).toBe(
      "the open-files limit is too low: this process may open 120 files (ulimit -n) and twinfleet broker hash-password needs at least 128 to start: raise it before starting (as root `ulimit -n 128`, LimitNOFILE=128 in a systemd unit, --ulimit nofile=128 for a container)",
    );
    expect(tooFewFiles(["broker", "backup", "--http", "9100", "--out", "o"], limits("112"))).toContain(
      "twinfleet broker backup needs at least 120",
    );
    for (const words of [["nodes"], ["set", "n-1", "on"], ["pair"], ["unpair"], ["forget", "n-1"]])
      expect(tooFewFiles(words, limits("96"))).toContain(`twinfleet ${words[0]} needs at least 104`);
    expect(tooFewFiles(["report", "show", "r.json"], limits("96"))).toContain(
      "twinfleet report show needs at least 104",
    );
    expect(tooFewFiles(["report", "merge", "s1.json", "s2.json"], limits("96"))).toContain(
      "twinfleet report merge needs at least 104",
    );
    expect(tooFewFiles(["sweep", "--quick"], limits("192"))).toContain(
      `twinfleet sweep needs at least ${START_FILES.sweep}`,
    );
    // `broker` with no subcommand is the service: its options' values name none.
    expect(startNeed(["broker", "--data", "b", "--port", "1883"])).toEqual({ command: "broker", need: 128 });
  });

  it("has a need measured for every command and subcommand of `twinfleet --help`", () => {
    const names = buildProgram().commands.flatMap((c) =>
      c.commands.length === 0 ? [c.name()] : c.commands.map((sub) => `${c.name()} ${sub.name()}`),
    );
    expect(names.filter((n) => !n.endsWith("help") && START_FILES[n] === undefined)).toEqual([]);
    expect(names.length).toBeGreaterThan(10);
  });

  it("lets a command start at its need, one not measured, help, or an unknown limit", () => {
    for (const [command, need] of Object.entries(START_FILES))
      expect(tooFewFiles(command.split(" "), limits(String(need)))).toBeUndefined();
    expect(tooFewFiles(["report"], limits("40"))).toBeUndefined();
    expect(tooFewFiles(["help", "twins"], limits("40"))).toBeUndefined();
    expect(tooFewFiles(["twins", "--help"], limits("40"))).toBeUndefined();
    expect(tooFewFiles(["twins"], limits("unlimited"))).toBeUndefined();
    expect(tooFewFiles(["twins"], "")).toBeUndefined();
    expect(startNeed(["--log-format", "json"])).toBeUndefined();
  });

  it("finds the command past the program's own options and their values, as commander does", () => {
    // Before, the first word was taken: `json` (no need: no check), `debug`, or `--log-level` as broker's sub.
    expect(tooFewFiles(["--log-format", "json", "twins", "--data", "d"], limits("100"))).toContain(
      "twinfleet twins needs at least 136",
    );
    expect(startNeed(["--log-level", "debug", "sim"])).toEqual({ command: "sim", need: 352 });
    expect(startNeed(["--log-level=debug", "broker"])).toEqual({ command: "broker", need: 128 });
    expect(tooFewFiles(["broker", "--log-level", "debug", "hash-password"], limits("40"))).toContain(
      "twinfleet broker hash-password needs at least 128",
    );
    expect(commandWords(["--log-format", "json", "report", "show", "--", "sim"])).toEqual(["report", "show"]);
    // A word after the command's own option is that option's value or an argument, never a subcommand.
    expect(startNeed(["broker", "--data", "backup"])).toEqual({ command: "broker", need: 128 });
    expect(startNeed(["broker", "--data=d", "backup"])).toEqual({ command: "broker", need: 128 });
    expect(startNeed(["broker", "backup", "--out", "x"])).toEqual({ command: "broker backup", need: 120 });
    // The list is the program's: every option of `twinfleet` itself that takes a value.
    const taking = buildProgram().options.filter((o) => o.required || o.optional);
    expect(taking.map((o) => o.long)).toEqual([...GLOBAL_VALUE_OPTIONS]);
  });
});

describe("running out while loading or starting", () => {
  const there = (path: string) => path.endsWith("/node_modules/mqtt-packet/index.js");

  it("is an EMFILE or ENFILE, on the error or its cause", () => {
    expect(isFileLimitError(coded("EMFILE", "EMFILE: too many open files, open '/x/never.js'"), there)).toBe(
      true,
    );
    expect(isFileLimitError(coded("ENFILE", "ENFILE: file table overflow"), there)).toBe(true);
    expect(isFileLimitError(new Error("store", { cause: coded("EMFILE", "EMFILE") }), there)).toBe(true);
    expect(isFileLimitError(coded("ENOENT", "ENOENT: no such file"), there)).toBe(false);
    expect(isFileLimitError("EMFILE", there)).toBe(false);
  });

  it("is a package said to be missing that is there, not one that is missing", () => {
    const found = coded(
      "ERR_MODULE_NOT_FOUND",
      "Cannot find package '/opt/twinfleet/node_modules/mqtt-packet/index.js' imported from /opt/twinfleet/dist/twins/wire-link.js",
    );
    expect(isFileLimitError(found, there)).toBe(true);
    const missing = coded(
      "ERR_MODULE_NOT_FOUND",
      "Cannot find package '/opt/twinfleet/node_modules/hdr-histogram-js/index.js' imported from /opt/twinfleet/dist/sim/histogram.js",
    );
    expect(isFileLimitError(missing, there)).toBe(false);
    expect(
      isFileLimitError(
        coded("ERR_MODULE_NOT_FOUND", "Cannot find package 'pino' imported from /x.js"),
        () => true,
      ),
    ).toBe(false);
  });

  it("finds a package there whose index.js is not: its package.json names another main", () => {
    // Node, unable to read a package's package.json for the limit, looks for its index.js instead.
    const root = mkdtempSync(join(tmpdir(), "file-limit-"));
    try {
      const pkg = (name: string, json: string | undefined, files: string[]) => {
        mkdirSync(join(root, name));
        if (json !== undefined) writeFileSync(join(root, name, "package.json"), json);
        for (const f of files) writeFileSync(join(root, name, f), "");
      };
      pkg("mqtt-packet", '{"main": "mqtt.js"}', ["mqtt.js"]);
      pkg("broken", '{"main": "gone.js"}', []);
      pkg("bare", undefined, []);
      expect(namedFileThere(join(root, "mqtt-packet/index.js"))).toBe(true);
      expect(namedFileThere(join(root, "broken/index.js"))).toBe(false);
      expect(namedFileThere(join(root, "bare/index.js"))).toBe(false);
      expect(namedFileThere(join(root, "absent/index.js"))).toBe(false);
      const said = coded(
        "ERR_MODULE_NOT_FOUND",
        `Cannot find package '${join(root, "mqtt-packet/index.js")}' imported from /x/dist/twins/wire-link.js`,
      );
      expect(isFileLimitError(said)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("is told as the limit, with the command's need where it is measured", () => {
    expect(fileLimitError(["broker", "--data", "b"], "twinfleet broker", limits("120"))).toBe(
      "the open-files limit is too low: it ran out of open files (EMFILE) while starting; this process may open 120 (ulimit -n) and twinfleet broker needs at least 128 to start: raise it before starting (as root `ulimit -n 128`, LimitNOFILE=128 in a systemd unit, --ulimit nofile=128 for a container)",
    );
    // Short above the need measured: twice the limit.
    expect(fileLimitError(["twins"], "twinfleet twins", limits("140"))).toBe(
      "the open-files limit is too low: it ran out of open files (EMFILE) while starting; this process may open 140 (ulimit -n) and twinfleet twins needs at least 136 to start, more on this host: raise it before starting (as root `ulimit -n 280`, LimitNOFILE=280 in a systemd unit, --ulimit nofile=280 for a container)",
    );
    expect(fileLimitError(["report"], "twinfleet report", "")).toBe(
      "the open-files limit is too low: it ran out of open files (EMFILE) while starting; this process may open its limit (ulimit -n): raise it before starting (as root `ulimit -n`, LimitNOFILE= in a systemd unit, --ulimit nofile= for a container)",
    );
  });
});

it("a service under `ulimit -n 100` exits 1 saying the limit, not a missing package", () => {
  const r = spawnSync(
    "bash",
    ["-c", `ulimit -n 100 && exec ${cliCommand()} twins --broker mqtt://127.0.0.1:1 --data /nonexistent/t`],
    { encoding: "utf8", timeout: 60_000 },
  );
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(
    "twinfleet twins: the open-files limit is too low: this process may open 100 files (ulimit -n) and twinfleet twins needs at least 136 to start",
  );
  expect(r.stderr).not.toContain("Cannot find");
});

it("a subcommand under its need is named as itself: `twinfleet broker hash-password`, not `twinfleet broker`", () => {
  const r = spawnSync("bash", ["-c", `ulimit -n 96 && exec ${cliCommand()} broker hash-password`], {
    encoding: "utf8",
    timeout: 60_000,
    input: "pw\n",
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^twinfleet broker hash-password: the open-files limit is too low: /);
  expect(r.stderr).toContain("needs at least 128 to start");
});
