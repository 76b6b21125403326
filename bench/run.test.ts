/**
 * `npm run bench` (bench/run.ts) as a user runs it: its --help, its flags refused before anything runs,
 * and `faults --duration` fitting a case to the time given.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fitCase } from "./faults.js";
import { durationArg, namesArg } from "./record.js";

const RUN = fileURLToPath(new URL("./run.ts", import.meta.url));
// The command loads every benchmark through tsx: seconds at rest, over 30 s on a host at load 20 (a run
// cut there had status null, its output unread). The limit bounds a hang only; nothing here is timed.
const SPAWN_LIMIT_MS = 120_000;
const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", RUN, ...args], {
    encoding: "utf8",
    timeout: SPAWN_LIMIT_MS,
  });

describe("npm run bench", { timeout: SPAWN_LIMIT_MS + 30_000 }, () => {
  it("lists the benchmarks on --help, on stdout, exit 0", () => {
    const r = bench("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("fleet|scale|overhead");
  });

  it("refuses a bad flag with its name and exit 2, before running anything", () => {
    const r = bench("faults", "--nodes", "10", "--only", "restarts");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--only: unknown "restarts"');
    expect(r.stdout).toBe("");
  });
});

describe("faults --duration", () => {
  it("is in the bench's --help", () => {
    const r = bench("faults", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("[--duration S]");
  });

  it("refuses a duration that is not a whole number of seconds, naming it, before running anything", () => {
    const r = bench("faults", "--nodes", "10", "--duration", "1.5");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--duration: must be a whole number from 5 to 86400, got "1.5"');
    expect(r.stdout).toBe("");
    expect(() => durationArg(["--duration"])).toThrow("--duration: must be a whole number");
    expect(durationArg(["--nodes", "10"])).toBeUndefined();
  });

  it("shortens a case and scales its fault's times to fit, as sweep --quick does", () => {
    const restart = {
      durationS: 60,
      faults: [{ kind: "broker-restart", atS: 20, downS: 5 }] as const,
    };
    expect(fitCase(restart, 15)).toEqual({
      durationS: 15,
      faults: [{ kind: "broker-restart", atS: 5, downS: 1.3 }],
    });
    expect(fitCase(restart, undefined)).toBe(restart);
  });
});

describe("namesArg", () => {
  it("gives the names, or the fallback's, and refuses one it does not know", () => {
    expect(namesArg(["--only", "a, b"], "--only", "c", ["a", "b", "c"])).toEqual(["a", "b"]);
    expect(namesArg([], "--only", "c", ["a", "b", "c"])).toEqual(["c"]);
    expect(() => namesArg(["--only", "a,x"], "--only", "c", ["a", "b", "c"])).toThrow(
      '--only: unknown "x"; one or more of a,b,c',
    );
  });
});
