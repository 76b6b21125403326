/**
 * A power cut takes the broker, the twins service and the nodes together; the broker starts again on
 * its store and replays each node's retained `T1 1`, and the service starts again on its data
 * directory. Its first connection had nothing to compare the broker's start with, so every dead node
 * read online (`/api/nodes`, `/metrics`) until the broker's --will-grace ran out (19 s measured).
 * Now the service before it records what it read of the broker's start in the directory's lock, and
 * the one after compares its first connection with it: those nodes are `unheard` from the start. A
 * service killed alone, its broker running on, tells no restart. Real sockets, port 0.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { BrokerRestart, START_ID_TOPIC, UPTIME_TOPIC } from "../broker-restart.js";
import { startTwins, type Twins } from "../service.js";
import { jsonFileStore, LOCK_FILE, STORE_FILE } from "../store.js";
import { fileSchema } from "../store-format.js";
import { brokerSeenLines, brokerSeenOf } from "../store-lock.js";
import { cleanupAfterEach, loggedLines } from "./own-broker.js";
import { when } from "./poll.js";
import { brokerOn, dataDir, nodeOn } from "./restart-rig.js";

const cleanup = cleanupAfterEach();

/** A service on the data directory `dir`, with its log's lines. */
async function twinsOn(url: string, dir: string) {
  const { logger, lines } = loggedLines("info");
  const twins: Twins = await startTwins({
    url,
    logger,
    probe: false,
    reconnectPeriodMs: 200,
    store: await jsonFileStore(dir),
  });
  return { twins, lines };
}

/** The start id the lock in `dir` records, once it does. */
const recorded = (dir: string) => brokerSeenOf(readFileSync(join(dir, LOCK_FILE), "utf8"))?.startId;

describe("a twins service started again after a power cut that took its broker", () => {
  it("shows the nodes the broker's store says online unheard from its first connection, not online", async () => {
    const brokerDir = await dataDir(cleanup, "twins-cold-restart-");
    const twinsDir = await dataDir(cleanup, "twins-cold-restart-");
    const first = await brokerOn(brokerDir);
    const ghost = await nodeOn(first.url, "ghost");
    const before = await twinsOn(first.url, twinsDir);
    await when(() => before.twins.get("ghost")?.presence === "online");
    await when(() => recorded(twinsDir) !== undefined);
    const firstId = recorded(twinsDir);

    // The power goes: the broker (no will published), the node and the service, all without a goodbye.
    await first.kill();
    ghost.stream.destroy();
    await before.twins.kill();
    const second = await brokerOn(brokerDir, first.port);
    cleanup.unshift(() => second.close());
    const after = await twinsOn(second.url, twinsDir);
    cleanup.push(() => after.twins.close());
    expect(await after.twins.replayOver?.(10_000)).toBe(true);

    expect(after.twins.get("ghost")?.presence).toBe("unheard");
    expect(after.twins.list().filter((t) => t.presence === "online")).toEqual([]);
    // Told while the service started (before `startTwins` resolved): by its line.
    const warned = after.lines.filter((l) => l.msg.includes("restarted since the service before this one"));
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toContain("(its start id changed)");
    // What it knows of the one before, whichever way it ended (a kill, or a clean stop: twins.json's record).
    expect(warned[0]?.msg).toContain("the service before this one on its data directory last read it");
    expect(warned[0]?.msg).not.toContain("without a goodbye");
    // The new lock records the new broker's start, for the service after this one.
    await when(() => recorded(twinsDir) !== undefined && recorded(twinsDir) !== firstId);

    // The node comes back: online as soon as it is heard.
    const back = await nodeOn(second.url, "ghost");
    cleanup.push(() => back.endAsync(true));
    await when(() => after.twins.get("ghost")?.presence === "online");
  });

  it("tells it after a clean stop too: the site lost power with the service stopped for maintenance", async () => {
    const brokerDir = await dataDir(cleanup, "twins-cold-restart-");
    const twinsDir = await dataDir(cleanup, "twins-cold-restart-");
    const first = await brokerOn(brokerDir);
    const ghost = await nodeOn(first.url, "ghost");
    const before = await twinsOn(first.url, twinsDir);
    await when(() => before.twins.get("ghost")?.presence === "online");
    await when(() => recorded(twinsDir) !== undefined);
    // Stopped cleanly: its lock goes, and what it read of the broker's start is in twins.json.
    await before.twins.close();
    const file = JSON.parse(readFileSync(join(twinsDir, STORE_FILE), "utf8"));
    expect(file.broker?.startId).toMatch(/./);
    // A build that reads twins.json without it reads the file as before (the key left out).
    expect(fileSchema.safeParse(file).success).toBe(true);

    // Then the power goes: the broker (no will published) and the node.
    await first.kill();
    ghost.stream.destroy();
    const second = await brokerOn(brokerDir, first.port);
    cleanup.unshift(() => second.close());
    const after = await twinsOn(second.url, twinsDir);
    cleanup.push(() => after.twins.close());
    expect(await after.twins.replayOver?.(10_000)).toBe(true);

    expect(after.twins.get("ghost")?.presence).toBe("unheard");
    const warned = after.lines.filter((l) => l.msg.includes("restarted since the service before this one"));
    expect(warned.map((l) => l.msg)).toEqual([expect.stringContaining("(its start id changed)")]);
  });

  it.each([
    ["after a clean stop", (t: Twins) => t.close()],
    ["when the service alone was killed", (t: Twins) => t.kill()],
  ])("tells no restart %s and the broker ran on", async (_how, end) => {
    const brokerDir = await dataDir(cleanup, "twins-cold-restart-");
    const twinsDir = await dataDir(cleanup, "twins-cold-restart-");
    const broker = await brokerOn(brokerDir);
    cleanup.unshift(() => broker.close());
    const node = await nodeOn(broker.url, "n-1");
    cleanup.push(() => node.endAsync(true));
    const before = await twinsOn(broker.url, twinsDir);
    await when(() => recorded(twinsDir) !== undefined);
    await end(before.twins);

    const after = await twinsOn(broker.url, twinsDir);
    cleanup.push(() => after.twins.close());
    expect(await after.twins.replayOver?.(10_000)).toBe(true);
    expect(after.lines.filter((l) => l.msg.includes("restarted"))).toEqual([]);
    expect(after.twins.get("n-1")?.presence).toBe("online");
  });
});

describe("what the service before read, compared at the first connection", () => {
  it("tells a start id other than the one the service before read, and records the one read", () => {
    const sched = new FakeScheduler(5_000, 1_796_000_000_000);
    const told: [number, string, boolean][] = [];
    const kept: object[] = [];
    const restart = new BrokerRestart(sched, (...t) => told.push(t), {
      before: { startId: "old/1" },
      record: (seen) => kept.push(seen),
    });
    restart.connected();
    restart.message(START_ID_TOPIC, Buffer.from("new/2"));
    expect(told).toEqual([[5_000, "its start id changed", true]]);
    expect(kept).toEqual([{ startId: "new/2" }]);
    // Its own next connection to the same broker: nothing told, nothing recorded again.
    sched.advance(10_000);
    restart.connected();
    restart.message(START_ID_TOPIC, Buffer.from("new/2"));
    expect(told).toHaveLength(1);
    expect(kept).toHaveLength(1);
  });

  it("records the same start id again (the lock is new) and tells nothing when the broker ran on", () => {
    const told: unknown[] = [];
    const kept: object[] = [];
    const restart = new BrokerRestart(new FakeScheduler(), (...t) => told.push(t), {
      before: { startId: "same/1" },
      record: (seen) => kept.push(seen),
    });
    restart.connected();
    restart.message(START_ID_TOPIC, Buffer.from("same/1"));
    expect(told).toEqual([]);
    expect(kept).toEqual([{ startId: "same/1" }]);
  });

  it("tells a Mosquitto started later than the one the service before read, by dates", () => {
    // The service before read a start at this date; this one runs on a clock of its own origin.
    const date = 1_796_000_000_000;
    const sched = new FakeScheduler(0, date + 300_000);
    const told: [number, string, boolean][] = [];
    const kept: { startedAt?: number }[] = [];
    const restart = new BrokerRestart(sched, (...t) => told.push(t), {
      before: { startedAt: date },
      record: (seen) => kept.push(seen),
    });
    restart.connected();
    restart.message(UPTIME_TOPIC, Buffer.from("4 seconds")); // started 4 s ago, 296 s after the one read
    expect(told).toEqual([[0, "its uptime ($SYS/broker/uptime) is 4 s", true]]);
    expect(kept).toEqual([{ startedAt: date + 296_000 }]);
    const same = new BrokerRestart(sched, (...t) => told.push(t), { before: { startedAt: date } });
    same.connected();
    same.message(UPTIME_TOPIC, Buffer.from("305 seconds")); // the same start, its copy 5 s old
    expect(told).toHaveLength(1);
  });

  it("keeps in the lock a start id a line can hold, and reads the last of each kind", () => {
    expect(brokerSeenLines({ startId: "a b" })).toBe("");
    expect(brokerSeenLines({ startId: "x".repeat(129) })).toBe("");
    const text = `123 boot/1\n${brokerSeenLines({ startId: "one/1", startedAt: 10.7 })}${brokerSeenLines({ startId: "two/2" })}broker-started x\n`;
    expect(brokerSeenOf(text)).toEqual({ startId: "two/2", startedAt: 10 });
    expect(brokerSeenOf("123 boot/1\npresence tf-twins-a 1\n")).toBeUndefined();
  });
});
