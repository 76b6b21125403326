/**
 * `twinfleet sim --shard K/N` killed with -9 (a power cut, the OOM killer) writes no shard report.
 * Its --shard-report path kept an earlier run's report, which `report merge` took as this run's
 * beside the other shards' (its time-window check lets runs a minute apart through). The shard now
 * marks the path as it starts; the merge refuses the mark, naming the file (exit 2).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { UNFINISHED_KIND } from "../../fleet/report-unfinished.js";
import { RealScheduler } from "../../node/scheduler.js";
import { when } from "../../twins/test/poll.js";
import { main } from "../main.js";
import { spawnCli } from "./spawned-sim.js";

let dir: string;
let broker: BrokerHost;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tf-shard-kill-"));
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What `path` holds as JSON, or undefined while it is not whole JSON. */
function jsonAt(path: string): { kind?: unknown; pid?: unknown } | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

describe("a shard killed with -9", () => {
  it("leaves the file as it was when its options are refused", async () => {
    const report = join(dir, "refused.json");
    writeFileSync(report, '{"an earlier run\'s shard report": true}\n');
    const io = { stdout: () => {}, stderr: () => {}, env: {} };
    const args = ["sim", "--shard", "3/3", "--broker", broker.url, "--nodes", "2", "--shard-report", report];
    expect(await main(args, io)).toBe(2);
    expect(readFileSync(report, "utf8")).toBe('{"an earlier run\'s shard report": true}\n');
  });

  it("leaves its mark at --shard-report, which report merge refuses, naming the file", async () => {
    const report = join(dir, "s2.json");
    writeFileSync(report, '{"an earlier run\'s shard report": true}\n');
    const { child, exited } = spawnCli([
      ...["sim", "--shard", "2/2", "--broker", broker.url, "--seed", "killed"],
      ...["--nodes", "4", "--rate", "0", "--duration", "600", "--settle", "60", "--workers", "0"],
      ...["--shard-report", report],
    ]);
    try {
      await when(() => jsonAt(report)?.kind === UNFINISHED_KIND, 60_000);
      child.kill("SIGKILL");
      await exited;
      expect(jsonAt(report)).toMatchObject({ kind: UNFINISHED_KIND, pid: child.pid });
      const err: string[] = [];
      const io = { stdout: () => {}, stderr: (s: string) => err.push(s), env: {} };
      expect(await main(["report", "merge", report], io)).toBe(2);
      expect(err.join("")).toContain(
        `${report}: holds no report: the twinfleet sim run writing it (pid ${child.pid} on `,
      );
      expect(err.join("")).toContain("leave the file out and merge the others with --partial");
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
