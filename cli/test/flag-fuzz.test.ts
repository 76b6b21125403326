/**
 * Every option of every command, walked from the commander program itself: each value-taking flag is
 * given values of the wrong kind (not a number, a number in hex or with an exponent, empty, a file that
 * is not there, a directory where a file goes, …) and must be refused as a usage error — exit code 2,
 * one message naming the flag, no stack, no "undefined"/"NaN"/"[object Object]" — before anything
 * starts. A flag added later must be put in KINDS (cli/test/flag-kinds.ts), which says what it
 * takes; until then this test fails naming it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command, Option } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram, main } from "../main.js";
import { KINDS, type Kind } from "./flag-kinds.js";

const scratch = mkdtempSync(join(tmpdir(), "flag-fuzz-"));
const MISSING = join(scratch, "missing", "x.json");
const NOT_JSON = join(scratch, "not.json");
writeFileSync(NOT_JSON, "this is not JSON\n");
const UNWRITABLE = "/proc/flag-fuzz/x.json"; // /proc cannot hold a new entry, even for root
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The commands' actions load their modules on first use (`await import` in cli/commands/*.ts): loaded
 * here, once, and not by whichever case first gets past the parser. The sim's alone took 9 s of the
 * first such case under the test runner on a quiet host, and with the cases after it passed the 30 s
 * a test is given on a busy one. A load is no refusal: it gets a limit of its own, the cases theirs.
 */
beforeAll(async () => {
  await Promise.all([
    import("../commands/sim-run.js"),
    import("../commands/broker-run.js"),
    import("../commands/monitor-run.js"),
    import("../commands/report-run.js"),
    import("../commands/sweep-run.js"),
    import("../commands/forget-run.js"),
    import("../commands/twins-service-run.js"),
  ]);
}, 120_000);

/** Values no number flag takes: not a number, or not written in plain decimal. */
const NOT_NUMBERS = [
  "abc",
  "NaN",
  "Infinity",
  "1e999",
  "1e3",
  "0x10",
  " 5 ",
  "",
  "-1",
  "5abc",
  "x".repeat(10_240),
];

const BAD: Record<Kind, readonly string[]> = {
  whole: [...NOT_NUMBERS, "1.5"],
  number: NOT_NUMBERS,
  "in-file": [MISSING, scratch, ""],
  "out-file": [scratch, UNWRITABLE, ""],
  dir: [""],
  url: ["abc", "", "http://127.0.0.1:1", "mqtt://", " mqtt://127.0.0.1:1"],
  "web-url": ["abc", "", "mqtt://127.0.0.1:1", "http://127.0.0.1:1/api", "http://u@127.0.0.1:1"],
  http: ["abc", "", "99999", "-1", "1.5", "0x10", "host:", "a b:80"],
  choice: ["abc", "", "x".repeat(10_240)],
  prefix: ["", "a/b", "a#", "a+", "a b", "x".repeat(10_240)],
  user: ["", "a\u001bb", "x".repeat(70_000)],
  secret: ["a\u001bb", "x".repeat(70_000)],
  host: ["", " 5 ", "a b", "/tmp/x", "a\u001bb", "x".repeat(10_240)],
  filter: ["", "a/#/b", "a+", "#x"],
  shard: ["abc", "", "0/4", "5/4", "1.5/4", "1/0", "1/", "/4", "0x1/4"],
  ge: ["abc", "", "0.1,0.2", "0.1,0.2,2", "0.1,NaN,0.5", "0x1,0,0"],
  "fleet-file": ["nope", "", MISSING.replace(/\.json$/, ".json"), NOT_JSON],
  proxies: ["", "abc", "192.0.2.1,", "192.0.2.1/33", "192.0.2.300", "a b", "x".repeat(10_240)],
  bounds: [
    "",
    "abc",
    "OFF",
    "conns=0",
    "conns=-1",
    "api=20",
    "api=0x10/5",
    "files=40/1e3",
    "x".repeat(10_240),
  ],
  span: [
    "abc",
    "",
    "0",
    "0h",
    "-1d",
    "30",
    "30m",
    "59m",
    "1.5d",
    "1 d",
    "0x10d",
    "3651d",
    "x".repeat(10_240),
  ],
  free: [],
};

/**
 * What each command is given besides the flag, so that the flag's check is reached and, were a bad
 * value taken, the command would fail at once instead of running: a broker on port 1 of loopback
 * (nothing listens there), no terminal for the console.
 */
const BROKER = "mqtt://127.0.0.1:1";
function baseArgs(command: string, flag: string): string[] {
  switch (command) {
    case "sim": {
      const live = ["--username", "--password", "--password-file", "--node-password", "--node-password-file"];
      const needs: Record<string, string[]> = {
        "--speed": ["--clock", "virtual"],
        "--shard": ["--broker", BROKER],
        "--shard-report": ["--shard", "1/2", "--broker", BROKER],
        "--http-token": ["--http", "0"],
        "--http-token-file": ["--http", "0"],
        "--http-trusted-proxy": ["--http", "0"],
        "--http-client-bounds": ["--http", "0"],
      };
      const more = live.includes(flag) ? ["--broker", BROKER, "--username", "u"] : (needs[flag] ?? []);
      return ["sim", "--headless", "--nodes", "2", "--duration", "1", "--settle", "1", ...more];
    }
    case "broker":
      return [
        "broker",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        ...(flag.startsWith("--http-") ? ["--http", "0"] : []),
      ];
    case "nodes":
      return ["nodes", "--broker", BROKER, "--wait", "0"];
    case "set":
      // --via and its token go to a twins service's web address instead of the broker.
      if (flag === "--via") return ["set", "lamp-1", "on", "--wait", "0"];
      if (flag.startsWith("--http-token")) return ["set", "lamp-1", "on", "--via", "http://127.0.0.1:1"];
      return ["set", "lamp-1", "on", "--broker", BROKER, "--wait", "0"];
    case "pair":
    case "unpair":
      return [command, "lamp-1", "lamp-2", "--broker", BROKER, "--wait", "0"];
    case "forget":
      return ["forget", "lamp-1", "--broker", BROKER, "--wait", "0"];
    case "twins":
      return ["twins", "--broker", BROKER, ...(flag.startsWith("--http-") ? ["--http", "0"] : [])];
    case "monitor": {
      const http = flag.startsWith("--http-") ? ["--http", "0"] : [];
      return ["monitor", "--broker", BROKER, ...(flag === "--username" ? [] : ["--username", "u"]), ...http];
    }
    case "sweep":
      return ["sweep"];
    case "report merge":
      return ["report", "merge", NOT_JSON];
    case "broker backup":
      return ["broker", "backup", "--http", "127.0.0.1:1"];
    default:
      return [];
  }
}

/** A TLS flag needs an encrypted broker. */
function brokerFor(flag: string, argv: string[]): string[] {
  if (!["--ca", "--cert", "--key"].includes(flag)) return argv;
  return argv.map((a) => (a === BROKER ? "mqtts://127.0.0.1:1" : a));
}

interface Flag {
  readonly command: string;
  readonly option: Option;
}

function flagsOf(c: Command, path: string[] = []): Flag[] {
  const here = c.options
    .filter((o) => o.long !== "--version")
    .map((option) => ({ command: path.join(" "), option }));
  return [...here, ...c.commands.flatMap((s) => flagsOf(s, [...path, s.name()]))];
}

const program = buildProgram({ stdout: () => {}, stderr: () => {} });
const FLAGS = flagsOf(program).filter((f) => f.option.required);

/**
 * The longest line an error may have when the value was 10 KB: the value is quoted back at most
 * SHOWN_MAX characters long (protocol/shown.ts), the rest is the command's own words.
 */
const LINE_MAX = 400;

/** Runs the CLI in this process; a command that has not answered after 20 s has started something (a refusal takes well under a second of CPU). */
async function run(argv: string[]): Promise<{ code: number | "running"; err: string }> {
  const err: string[] = [];
  const io = { stdout: () => {}, stderr: (s: string) => err.push(s), env: {} };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"running">((resolve) => {
    timer = setTimeout(() => resolve("running"), 20_000);
  });
  const code = await Promise.race([main(argv, io), late]);
  clearTimeout(timer);
  return { code, err: err.join("") };
}

/** What is wrong with the answer to a bad value, or undefined when it is a proper refusal. */
function fault(
  flag: string,
  value: string,
  r: { code: number | "running"; err: string },
): string | undefined {
  if (r.code === "running") return "taken: the command started";
  if (r.code !== 2) return `exit ${r.code}: ${r.err.split("\n")[0]?.slice(0, 160)}`;
  // The value as given may be quoted back; anything else in the message must be the command's own.
  const own = r.err.split(JSON.stringify(value)).join("").split(value).join("");
  if (/\n\s+at /.test(r.err)) return "a stack trace";
  if (/undefined|NaN|\[object Object\]/.test(own)) return `a raw word: ${r.err.slice(0, 160)}`;
  const named = flag.split("/").some((f) => r.err.includes(f) || r.err.includes(f.replace(/^--/, "")));
  if (!named) return `does not name ${flag}: ${r.err.split("\n")[0]?.slice(0, 160)}`;
  return undefined;
}

describe("every flag of every command", () => {
  it("says what it takes (a new flag is added to KINDS with its check)", () => {
    const unknown = FLAGS.filter((f) => KINDS[f.command]?.[f.option.long ?? ""] === undefined).map(
      (f) => `${f.command} ${f.option.long}`,
    );
    expect(unknown).toEqual([]);
    expect(FLAGS.length).toBeGreaterThan(100);
  });

  const cases = FLAGS.flatMap((f) => {
    const long = f.option.long ?? "";
    const kind = KINDS[f.command]?.[long] ?? "free";
    return BAD[kind].map((value) => ({ ...f, long, kind, value }));
  });

  /**
   * A refusal is parsing and checking in this process: the broker's 722 runs (each bad value given as
   * `--flag v` and as `--flag=v`) took 1.9 s together, 2.6 ms a run, with the test's core shared three
   * ways, and passed the 30 s a test is given on a more loaded CI host. A run is given 50 ms, twenty
   * times that, and a command no less than 30 s: a command that started is told by `run`'s own 20 s.
   */
  const RUN_LIMIT_MS = 50;
  const limitOf = (command: string) =>
    Math.max(30_000, cases.filter((x) => x.command === command).length * 2 * RUN_LIMIT_MS);

  for (const command of [
    "sim",
    "broker",
    "nodes",
    "set",
    "pair",
    "unpair",
    "twins",
    "monitor",
    "sweep",
    "report merge",
    "",
  ])
    it(
      `refuses a bad value of each flag of \`${command}\` with exit code 2 and a message naming the flag`,
      async () => {
        const wrong: string[] = [];
        for (const c of cases.filter((x) => x.command === command)) {
          const base = brokerFor(c.long, baseArgs(c.command, c.long));
          for (const argv of [
            [...base, c.long, c.value],
            [...base, `${c.long}=${c.value}`],
          ]) {
            const problem = fault(c.long, c.value, await run(argv));
            if (problem)
              wrong.push(`${command} ${c.long} ${JSON.stringify(c.value.slice(0, 20))}: ${problem}`);
          }
        }
        expect(wrong).toEqual([]);
      },
      limitOf(command),
    );

  it.each(["sim", "broker", "nodes", "twins", "monitor", "sweep", "report merge", ""])(
    "quotes a 10 KB value back cut short: no line of an error of `%s` is longer than LINE_MAX",
    async (command) => {
      const values = [
        "x".repeat(10_240),
        `${"\u001b".repeat(5_000)}.json`,
        `${scratch}/${"y".repeat(10_240)}.json`,
      ];
      const wrong: string[] = [];
      for (const f of FLAGS.filter((x) => x.command === command)) {
        const long = f.option.long ?? "";
        const kind = KINDS[f.command]?.[long] ?? "free";
        // Any string is a seed; a long user name or password may be right (their own cases test them).
        if (kind === "free" || kind === "user" || kind === "secret") continue;
        const base = brokerFor(long, baseArgs(f.command, long));
        // A long filter is a filter: make it a wrong one.
        for (const value of kind === "filter" ? values.map((v) => `${v}/#x`) : values) {
          const r = await run([...base, long, value]);
          const longest = Math.max(...r.err.split("\n").map((l) => l.length));
          if (r.code === "running" || longest > LINE_MAX)
            wrong.push(
              `${long} ${JSON.stringify(value.slice(0, 12))}: ${r.code === "running" ? "taken" : `${longest} characters: ${r.err.slice(0, 200)}`}`,
            );
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  it("refuses a flag given twice, naming it and both values (the parser would keep the last)", async () => {
    const wrong: string[] = [];
    for (const f of FLAGS.filter((x) => x.option.parseArg === undefined)) {
      const long = f.option.long ?? "";
      const base = baseArgs(f.command, long).filter((a, i, all) => a !== long && all[i - 1] !== long);
      const path = f.command === "" ? [] : f.command.split(" ");
      const argv = [...(base.length > 0 ? base : path), long, "v1", `${long}=v2`];
      const r = await run(argv);
      if (r.code !== 2 || !r.err.includes(`${long}: given twice ("v1" and "v2")`))
        wrong.push(`${f.command} ${long}: exit ${r.code} ${r.err.split("\n")[0]}`);
    }
    expect(wrong).toEqual([]);
    // A repeatable flag collects its values.
    const filters = await run([
      "broker",
      "--port",
      "99999",
      "--deny-subscribe",
      "a/#",
      "--deny-subscribe",
      "b/#",
    ]);
    expect(filters.err).toMatch(/--port must be a port number/);
  });

  it("refuses an unknown command, an unknown flag and a flag of the command above", async () => {
    expect(await run(["fly"])).toEqual({
      code: 2,
      err: "twinfleet: unknown command 'fly'\n(run twinfleet --help for usage)\n",
    });
    for (const command of ["sim", "broker", "monitor", "sweep"]) {
      const r = await run([command, "--colour", "red"]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`^twinfleet ${command}: unknown option '--colour'`));
    }
    // `broker --port 1 hash-password` would read a password and ignore the port.
    const hash = await run(["broker", "--port", "1", "hash-password"]);
    expect(hash).toEqual({
      code: 2,
      err: "twinfleet broker hash-password: takes no flags; --port is for `twinfleet broker`\n(run twinfleet broker hash-password --help for usage)\n",
    });
  });
});
