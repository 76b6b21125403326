// A shard stopped 30 s (kill -STOP) and let go found its connection closed by the broker meanwhile:
// it printed only `broker connection: write EPIPE`. The line now says it was the shard's own stall,
// the error kept; an error with no stall behind it is told as it comes.
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { StallWatch } from "../../node/stall-watch.js";
import { connectionErrorLine } from "../shard-connection-error.js";

it("tells an error that met the shard's own stall as the stall's, and any other as it comes", () => {
  const sched = new FakeScheduler(1_000);
  const stalls = new StallWatch(sched);
  sched.advance(20_000);
  const epipe = new Error("write EPIPE");
  expect(connectionErrorLine(epipe, stalls.explaining(sched.now()))).toBe("broker connection: write EPIPE");
  let line = "";
  // Stopped at 21 s for 30 s: the probe due first writes on the socket the broker closed.
  sched.at(21_100, () => {
    line = connectionErrorLine(epipe, stalls.explaining(sched.now()));
  });
  sched.jump(30_000);
  expect(line).toBe(
    "broker connection: this shard did not run for 29.8 s (stopped or paused: its own stall, not the broker's), and its connection did not outlast it (write EPIPE): reconnecting",
  );
  // Well after the stall, an error is the connection's own again.
  sched.advance(10_000);
  const reset = new Error("read ECONNRESET");
  expect(connectionErrorLine(reset, stalls.explaining(sched.now()))).toBe(
    "broker connection: read ECONNRESET",
  );
});
