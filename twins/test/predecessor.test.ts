/**
 * The handover's line on its dead predecessor's presence: "still held" only when the broker showed
 * it before the clear; a broker that ran alone past its will grace had published the will already.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import type { ResolvedTwinsOptions } from "../options.js";
import { handoverLine, PresenceHandover, type PresenceLook } from "../predecessor.js";

const left = { pid: 8502, clientId: "tf-twins-b3b74764", since: Date.UTC(2026, 11, 5, 6, 40, 21) };
const topic = `tf/control/${left.clientId}`;

/** A handover whose broker replays `retained` (or nothing) on the presence's topic, and its lines. */
async function handOver(retained: string | undefined): Promise<{ lines: string[]; cleared: string[] }> {
  const sched = new FakeScheduler();
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l).msg) });
  const opts = { presence: true, prefix: "tf", clientId: "tf-twins-new", startedAt: 0, scheduler: sched };
  const store = { previous: left, holdAs: async () => {} };
  const handover = new PresenceHandover({ ...opts, logger, store } as unknown as ResolvedTwinsOptions);
  const look: PresenceLook = {
    subscribeAsync: async (t) => {
      // The broker's replay of the retained presence comes after the SUBACK.
      if (retained !== undefined) queueMicrotask(() => handover.message(t, Buffer.from(retained)));
    },
    unsubscribeAsync: async () => {},
  };
  const cleared: string[] = [];
  const done = handover.beforePresence(async (t) => cleared.push(t), look);
  for (let i = 0; i < 10 && cleared.length === 0; i++) {
    await new Promise((r) => setImmediate(r));
    sched.advance(100);
  }
  await done;
  return { lines, cleared };
}

describe("the predecessor's presence handed over", () => {
  it("says the broker still held it when its presence was replayed before the clear", async () => {
    const { lines, cleared } = await handOver('{"since":1}');
    expect(cleared).toEqual([topic]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("cleared the presence of tf-twins-b3b74764");
    expect(lines[0]).toContain("the broker still held it");
    expect(lines[0]).not.toContain("already");
  });

  it("says the broker had published its will when no presence was held any more", async () => {
    const { lines, cleared } = await handOver(undefined);
    expect(cleared).toEqual([topic]);
    expect(lines).toEqual([handoverLine(left, false)]);
    expect(lines[0]).toContain("was already cleared: by the broker publishing its will");
    expect(lines[0]).not.toContain("keeps it until");
  });

  it("words each case, and a presence not looked at as before", () => {
    expect(handoverLine(left, true)).toContain("the broker still held it");
    expect(handoverLine(left, false)).toContain("its --will-grace ran out before this service connected");
    expect(handoverLine(left, undefined)).toContain("keeps it until its --will-grace runs out");
    // A clean stop on a read-only directory leaves its lock too, its presence cleared by its goodbye:
    // it was told as a kill whose will the broker had published.
    expect(handoverLine(left, false)).toContain("or by its own goodbye");
    for (const held of [true, false, undefined]) {
      expect(handoverLine(left, held)).toContain("or a clean stop that could not remove it");
      expect(handoverLine(left, held)).not.toContain("without a goodbye");
    }
    for (const held of [true, false, undefined])
      expect(handoverLine(left, held)).toContain("pid 8502, since 2026-12-05T06:40:21.000Z");
  });
});
