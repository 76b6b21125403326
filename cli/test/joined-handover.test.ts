/**
 * A run that joined a twins service, with a second controller beside it: the joined one killed and
 * started again (another client id) while the second stays. The report and summary say the joined
 * one left and whom the restarted one came beside. Before, its leaving went unsaid (the fleet kept a
 * controller) and the summary put the restarted one beside the joined service, gone by then.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { JoinedWatch } from "../../fleet/joined-watch.js";
import { FleetRun } from "../../fleet/run.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

class FakeClient extends EventEmitter {
  connected = true;
  subscribe(): void {}
  deliver(id: string, payload: string): void {
    this.emit("message", `tf/control/${id}`, Buffer.from(payload, "latin1"));
  }
}

function watch() {
  const client = new FakeClient();
  const sched = new FakeScheduler();
  const lines: string[] = [];
  const w = new JoinedWatch(client, Prefix("tf"), { clientId: "ctl-a", since: 1000 }, sched, {
    warn: (l) => lines.push(`WARN ${l}`),
    info: (l) => lines.push(`INFO ${l}`),
  });
  return { client, sched, lines, w };
}

describe("JoinedWatch, the joined service restarted beside another controller", () => {
  it("says the joined one left, and whom its successor came beside", async () => {
    const { client, sched, lines, w } = watch();
    client.deliver("ctl-a", "P1 1000");
    client.deliver("ctl-m", "P1 900"); // a monitor's service, there before the run
    sched.advance(4000);
    client.deliver("ctl-a", ""); // kill -9: its will clears the presence
    sched.advance(3000);
    client.deliver("ctl-r", "P1 8000"); // `twinfleet twins --data` again: another client id
    const joined = w.report(1000);
    expect(joined.left).toEqual([]); // the fleet never lacked a controller
    expect(joined.handedOver).toEqual([{ clientId: "ctl-a", atMs: 3000, stayed: ["ctl-m"] }]);
    expect(joined.beside).toEqual([
      { clientId: "ctl-m", atMs: -1000, with: ["ctl-a"] },
      { clientId: "ctl-r", atMs: 6000, with: ["ctl-m"] },
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/^WARN another twins service controls the fleet: ctl-m, beside ctl-a:/),
      "WARN the twins service ctl-a this run joined has left the broker (its presence was cleared: it was stopped, killed or cut off); ctl-m, beside it, still controls the fleet",
      expect.stringMatching(/^WARN another twins service controls the fleet: ctl-r, beside ctl-m:/),
    ]);

    const run = await FleetRun.start({
      clock: "virtual",
      nodes: 2,
      topology: "pairs",
      groupSize: 2,
      ratePerNodePerMin: 0,
      durationS: 1,
      settleS: 0,
      profile: "ideal",
    });
    const text = summary({ ...(await run.done), joinedTwins: joined });
    expect(text).toContain(
      "       twins beside   ctl-m from the start: another controller beside ctl-a (joined), each undoing the other's pairings and sets\n",
    );
    // It read `beside ctl-a (joined)`, a service gone 3 s before.
    expect(text).toContain(
      "       twins beside   ctl-r from 6.0 s: another controller beside ctl-m, each undoing the other's pairings and sets\n",
    );
    expect(text).toContain(
      "       twins left     ctl-a (joined) at 3.0 s; ctl-m, beside it, still controlled the fleet",
    );
  }, 60_000);

  it("says nothing of a second controller leaving beside the joined one but its beside entry", () => {
    const { client, sched, lines, w } = watch();
    client.deliver("ctl-a", "P1 1000");
    client.deliver("ctl-b", "P1 1500");
    sched.advance(1000);
    client.deliver("ctl-b", "");
    expect(w.report(0).handedOver).toBeUndefined();
    expect(w.report(0).beside).toEqual([{ clientId: "ctl-b", atMs: 0, with: ["ctl-a"], leftAtMs: 1000 }]);
    expect(lines).toHaveLength(1);
  });
});
