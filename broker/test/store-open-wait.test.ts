/**
 * The broker starting on a data directory that does not answer (a frozen file system: LevelDB's open
 * writes a new log and manifest, and that write does not end). Before, the start said nothing until
 * the thaw, a SIGTERM meanwhile was not told, a second one was told "closing its connections", and
 * at the thaw the broker listened, then closed. Now the wait is told after 5 s with its step, a stop
 * is told what it waits for, and once the directory answers the broker starts nothing. LevelDB's open
 * is held here as a frozen file system holds its write; the store is real, the clock a fake one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler, hostTurn } from "../../node/scheduler.js";
import { LateHost } from "../../node/test/late-host.js";
import { runBrokerCommand } from "../command.js";
import { dataDirectoryWait, StoreOpenWait } from "../store-open-wait.js";
import { freezeLevel, unfreezeLevel } from "./frozen-level.js";
import { keptLog, until } from "./start-wait.js";

const dirs: string[] = [];
afterEach(async () => {
  unfreezeLevel();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function frozenStart() {
  const dataDir = await mkdtemp(join(tmpdir(), "store-open-wait-"));
  dirs.push(dataDir);
  const { lines, logger } = keptLog();
  const sched = new FakeScheduler(0, Date.UTC(2026, 0, 1));
  const frozen = freezeLevel("open");
  const abort = new AbortController();
  let listened = false;
  const done = runBrokerCommand(
    { host: "127.0.0.1", port: "0", data: dataDir },
    {
      logger,
      scheduler: sched,
      signal: abort.signal,
      onListening: () => {
        listened = true;
      },
    },
  );
  await until(() => frozen.held() > 0, "LevelDB's open held");
  for (let i = 0; i < 5; i++) {
    sched.advance(1000);
    await hostTurn();
  }
  const said = (text: string) => lines.filter((l) => l.msg.includes(text));
  return { dataDir, lines, said, frozen, abort, done, listened: () => listened };
}

describe("the broker starting on a data directory that does not answer", () => {
  it("tells the wait after 5 s, tells a stop what it waits for, and starts nothing at the thaw", async () => {
    const s = await frozenStart();
    const told = s.said("has not answered in 5 s");
    expect(told).toHaveLength(1);
    expect(told[0]?.msg).toContain(`data directory ${s.dataDir}`);
    expect(told[0]?.msg).toContain("opening it as a LevelDB store");
    expect(told[0]?.msg).toContain("since 2026-01-01T00:00:00.000Z");
    expect(told[0]?.msg).toContain("the broker starts once it does");

    process.emit("SIGTERM", "SIGTERM");
    await until(() => s.said("SIGTERM: the broker stops without starting").length > 0, "the stop told");
    expect(s.said("SIGTERM: the broker stops without starting")[0]?.msg).toContain(
      "stops without starting once its data directory has answered; it waits for its data directory",
    );
    process.emit("SIGTERM", "SIGTERM");
    await until(() => s.said("stopping already, without starting").length > 0, "the second stop told");
    expect(s.said("closing its connections")).toHaveLength(0);

    s.frozen.thaw();
    await s.done;
    expect(s.said("answered after 5 s: the broker stops without starting (SIGTERM)")).toHaveLength(1);
    expect(s.said("SIGTERM while the broker was starting: it stops without starting")).toHaveLength(1);
    expect(s.listened()).toBe(false);
    expect(s.said("listening")).toHaveLength(0);
    // The directory is released: another open takes its lock.
    const again = new ClassicLevel(s.dataDir);
    await again.open();
    await again.close();
  });

  it("starts once the directory answers, when no stop was asked for", async () => {
    const s = await frozenStart();
    expect(s.said("has not answered in 5 s")).toHaveLength(1);
    s.frozen.thaw();
    await until(s.listened, "the broker listening");
    expect(s.said("answered after 5 s: the broker starts")).toHaveLength(1);
    s.abort.abort();
    await s.done;
  });
});

describe("the start's wait, told on a host that runs its timers late", () => {
  it("says 5 s at 5 s and 35 s at 35 s: the wait's real age, not a once-a-second look's drift", () => {
    const lines: { msg: string; waitedMs?: number }[] = [];
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const fake = new FakeScheduler(0, Date.UTC(2026, 0, 1));
    const wait = new StoreOpenWait(new LateHost(fake, 150), logger);
    wait.step(dataDirectoryWait("mnt/b"), "opening it as a LevelDB store");
    fake.advance(5_150);
    expect(lines.map((l) => l.waitedMs)).toEqual([5_150]);
    expect(lines[0]?.msg).toContain("broker: the data directory mnt/b has not answered in 5 s (opening it");
    fake.advance(29_999);
    expect(lines).toHaveLength(1);
    fake.advance(1);
    expect(lines.map((l) => l.waitedMs)).toEqual([5_150, 35_150]);
    expect(lines[1]?.msg).toContain(
      "has not answered in 35 s (opening it as a LevelDB store, since 2026-01-01T00:00:00.000Z)",
    );
    fake.advance(30_000);
    expect(lines.map((l) => l.waitedMs)).toEqual([5_150, 35_150, 65_150]);
    fake.advance(1_000);
    wait.done();
    expect(lines.at(-1)?.msg).toBe("broker: the data directory mnt/b answered after 66 s: the broker starts");
    fake.advance(60_000);
    expect(lines).toHaveLength(4);
  });
});
