/**
 * What a one-shot command says when the broker dropped messages on their way to it (twins' count of
 * Mosquitto's `$SYS` drops rising during the command, or its replay marker never back): with
 * Mosquitto's defaults a QoS 1 read listed 1,020 of 3,000 nodes and said nothing. A replay the broker
 * cut (twins/replay-cut.ts) is told as an incomplete read, with how many nodes the command read: at
 * `max_queued_bytes 200` `nodes` listed 50 of 300 and neither other sign showed in most tries.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { Twins } from "../../twins/index.js";
import { DropsSeen } from "../commands/dropped-replay.js";

const twins = (read = 0) =>
  Object.assign(new EventEmitter(), { count: () => read }) as unknown as Twins & EventEmitter;
const URL = "mqtt://127.0.0.1:1883";

describe("a one-shot command's dropped messages", () => {
  it("says nothing without a sign", () => {
    const seen = new DropsSeen(twins());
    seen.replayRead({ dropped: 0 });
    expect(seen.told(URL, "tf", [])).toBeUndefined();
  });

  it("tells the broker's count as it rose during the command, and what to set", () => {
    const t = twins();
    const seen = new DropsSeen(t);
    t.emit("broker-dropped", "to-clients", 1500);
    t.emit("broker-dropped", "retained-write", 3);
    t.emit("broker-dropped", "to-clients", 480);
    seen.stop();
    t.emit("broker-dropped", "to-clients", 7);
    const line = seen.told(URL, "tf", ["n-0001", "n-0002"]) ?? "";
    expect(line).toMatch(/^the broker at mqtt:\/\/127\.0\.0\.1:1883 dropped 1980 messages on their way/);
    expect(line).toContain("(not of n-0001, n-0002, read first by name)");
    expect(line).toContain(
      'set max_queued_messages 0 in mosquitto.conf and leave max_queued_bytes at 0 (docs/mosquitto.md, "Queues")',
    );
  });

  it("tells a replay marker that a later one passed as dropped, with the queue's advice", () => {
    const seen = new DropsSeen(twins());
    seen.replayRead({ dropped: 1 });
    const line = seen.told(URL, "tf", []) ?? "";
    expect(line).toMatch(/^the broker at mqtt:\/\/127\.0\.0\.1:1883 never sent back the marker/);
    expect(line).toContain("and sent back one published after it: it dropped it");
    expect(line).toContain("may miss nodes");
    expect(line).toContain("max_queued_messages 0");
    expect(line).not.toContain("read first by name");
  });

  it("tells markers the broker acknowledged and sent neither back as a write this login may not make", () => {
    const seen = new DropsSeen(twins());
    seen.replayRead({ dropped: 0, notBackMs: 3000, acknowledged: true });
    const line = seen.told(URL, "tf", []) ?? "";
    expect(line).toBe(
      'the broker at mqtt://127.0.0.1:1883 acknowledged the marker this command published after its subscriptions (tf/twins-probe/…/replay), and a second one published after it, but sent neither back within 3.0 s: this login may not be allowed to write tf/twins-probe/… (Mosquitto acknowledges a publish its access rules deny and drops it, its log saying "Denied PUBLISH"), or its queue stayed full. Without the marker the end of the broker\'s replay of the retained state went unmarked: this command read what the broker sent within its whole --wait, which is all of it on a broker that sends the replay at once (Mosquitto), unless the broker dropped some; let this login read and write tf/twins-probe/# (docs/mosquitto.md) and the command ends as soon as the replay is over',
    );
  });

  it("tells a replay marker only slow (none back) as slow, without blaming the broker's queue", () => {
    const seen = new DropsSeen(twins());
    seen.replayRead({ dropped: 0, notBackMs: 3000 });
    const line = seen.told(URL, "tf", []) ?? "";
    expect(line).toMatch(
      /^the broker at mqtt:\/\/127\.0\.0\.1:1883 had not sent back the marker this command published after its subscriptions \(tf\/twins-probe\/…\/replay\) within 3\.0 s, nor a second one published after it: the broker or this host is slow/,
    );
    expect(line).toContain("a longer --wait gives it more time");
    expect(line).not.toContain("dropped");
    expect(line).not.toContain("max_queued");
  });

  it("tells a cut replay as an incomplete read, naming how many nodes it read and the settings", () => {
    const seen = new DropsSeen(twins(50));
    seen.replayRead({ dropped: 0, cut: { held: true, cut: ["tf/config/+", "tf/status/+", "tf/report/+"] } });
    const line = seen.told(URL, "tf", []) ?? "";
    expect(line).toMatch(
      /^this command's read of the fleet under tf is incomplete: it read 50 nodes, but the broker/,
    );
    expect(line).toContain(
      "cut its replay of the retained messages on tf/config/+, tf/status/+, tf/report/+",
    );
    expect(line).toContain(
      'set max_queued_bytes 0 and max_queued_messages 0 in mosquitto.conf (docs/mosquitto.md, "Queues")',
    );
  });

  it("tells a cut replay before a marker passed or the count risen, sparing the nodes named only when their read came whole", () => {
    const t = twins(51);
    const seen = new DropsSeen(t);
    t.emit("broker-dropped", "to-clients", 800);
    seen.replayRead({ dropped: 1, cut: { held: true, cut: ["tf/status/+"] } });
    const line = seen.told(URL, "tf", ["n-0299"]) ?? "";
    expect(line).toMatch(/^this command's read .* it read 51 nodes, .* on tf\/status\/\+ /);
    expect(line).toContain("(not of n-0299, read first by name)");
    seen.replayRead({ dropped: 0, cut: { held: true, cut: ["tf/config/n-0299", "tf/status/+"] } });
    expect(seen.told(URL, "tf", ["n-0299"])).not.toContain("read first by name");
  });

  it("says nothing of a replay checked whole, or on a broker it could not check", () => {
    for (const held of [true, false]) {
      const seen = new DropsSeen(twins(300));
      seen.replayRead({ dropped: 0, cut: { held, cut: [] } });
      expect(seen.told(URL, "tf", [])).toBeUndefined();
    }
  });
});
