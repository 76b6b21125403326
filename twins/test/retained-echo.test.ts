// A retained write the broker acknowledged and never delivered back (Mosquitto's answer to a publish
// its access rules deny) is told, with the topic and the login, once a minute at most; one that comes
// back, or is cut short by a lost connection, is not.
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { ECHO_WAIT_MS, ECHO_WARN_EVERY_MS, RetainedEcho } from "../retained-echo.js";

function setup(username?: string) {
  const scheduler = new FakeScheduler(0);
  const lines: { msg: string; dropped?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const found: number[] = [];
  const echo = new RetainedEcho({ scheduler, logger, url: "mqtt://127.0.0.1:1883", username }, (n) =>
    found.push(n),
  );
  return { scheduler, lines, echo, found };
}

it("tells a retained write not delivered back within 10 s, naming the topic and the login", () => {
  const { scheduler, lines, echo } = setup("twins");
  echo.acknowledged("tf/config/n-0003", "C1 2 n-0010");
  echo.acknowledged("tf/report/n-0004", "R1 1 7 n-0004");
  scheduler.advance(100);
  echo.seen("tf/report/n-0004"); // this one came back
  scheduler.advance(ECHO_WAIT_MS - 101);
  expect(lines).toHaveLength(0);
  scheduler.advance(1);
  expect(lines).toHaveLength(1);
  expect(lines[0]?.msg).toMatch(
    /^twins: the broker at mqtt:\/\/127\.0\.0\.1:1883 acknowledged a retained write \(tf\/config\/n-0003\) but did not deliver it back in 10 s: it dropped it, or it is that far behind \(a busy host at a large fleet's start\)\. Do its access rules let the login twins write there\?/,
  );
  expect(lines[0]?.dropped).toBe(1);
});

it("says nothing of writes that come back, of cleared topics, or of writes cut short by a lost connection", () => {
  const { scheduler, lines, echo } = setup();
  echo.acknowledged("tf/config/a", "C1 1 b");
  echo.acknowledged("tf/report/b", ""); // clearing: nothing comes back
  scheduler.advance(5);
  echo.seen("tf/config/a");
  echo.acknowledged("tf/config/c", "C1 1 d");
  echo.clear(); // the connection went: the replay after it shows what the broker kept
  scheduler.advance(10 * ECHO_WAIT_MS);
  expect(lines).toHaveLength(0);
});

it("takes an echo that came before its write's acknowledgement as the write back", () => {
  // A broker forwards a publish to its subscribers, the writer among them, and acknowledges it in
  // either order (a one-shot `forget` of a node whose follower is offline: the service's config
  // for the follower came back ahead of its PUBACK, and was told as dropped 10 s later).
  const { scheduler, lines, echo, found } = setup();
  echo.sending("tf/config/n-0005", "C1 3");
  echo.seen("tf/config/n-0005");
  echo.acknowledged("tf/config/n-0005", "C1 3");
  // A write whose echo comes neither before nor after its acknowledgement is still told.
  echo.sending("tf/config/n-0006", "C1 3");
  echo.acknowledged("tf/config/n-0006", "C1 3");
  scheduler.advance(ECHO_WAIT_MS);
  expect(found).toEqual([1]);
  expect(lines).toHaveLength(1);
  expect(lines[0]?.msg).toContain("(tf/config/n-0006)");
});

it("tells at most once a minute, the writes dropped in between summed in the next line", () => {
  const { scheduler, lines, echo, found } = setup();
  echo.acknowledged("tf/config/a", "C1 1 b");
  scheduler.advance(ECHO_WAIT_MS);
  expect(lines).toHaveLength(1);
  expect(lines[0]?.msg).toContain("an anonymous login");
  for (let i = 0; i < 7; i++) echo.acknowledged(`tf/config/n-${i}`, "C1 1 b");
  scheduler.advance(ECHO_WAIT_MS);
  expect(lines).toHaveLength(1);
  // The first line was at 10 s: the next may come at 70 s.
  scheduler.advance(ECHO_WARN_EVERY_MS - ECHO_WAIT_MS - 1);
  expect(lines).toHaveLength(1);
  scheduler.advance(1);
  expect(lines).toHaveLength(2);
  expect(lines[1]?.msg).toContain("acknowledged 7 retained writes (tf/config/n-0, tf/config/n-1");
  expect(lines[1]?.msg).toContain("and 2 more) but did not deliver them back");
  scheduler.advance(10 * ECHO_WARN_EVERY_MS);
  expect(lines).toHaveLength(2);
  // Counted as found, not as told: 1, then the 7 at once though their line waited.
  expect(found).toEqual([1, 7]);
});

it("waits on 150,000 writes at once (a put-back of a large fleet) without overflowing the stack", () => {
  const { scheduler, lines, echo, found } = setup();
  echo.acknowledged("tf/report/first", "R1 1 1 first");
  scheduler.advance(1);
  for (let i = 0; i < 150_000; i++) echo.acknowledged(`tf/report/n-${i}`, "R1 1 1 n");
  scheduler.advance(ECHO_WAIT_MS - 1); // the first is due; the rest are still awaited
  expect(found).toEqual([1]);
  for (let i = 0; i < 150_000; i++) echo.seen(`tf/report/n-${i}`);
  scheduler.advance(ECHO_WAIT_MS);
  expect(found).toEqual([1]);
  expect(lines).toHaveLength(1);
});
