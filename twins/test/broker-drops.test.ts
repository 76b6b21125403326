// Mosquitto's own count of messages it dropped for full client queues: a rise is told with the
// count and what to raise, at most once a minute; the first value, a restart's lower one and
// garbage only set where counting starts.
import { pino } from "pino";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { BrokerDrops, DROPS_WARN_EVERY_MS } from "../broker-drops.js";

it("tells a rise of $SYS/broker/publish/messages/dropped, once a minute at most", () => {
  const scheduler = new FakeScheduler(0);
  const lines: { msg: string; dropped?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const rose: number[] = [];
  const drops = new BrokerDrops({ scheduler, logger, url: "mqtt://lab:1883", clientId: "tf-twins-1" }, (n) =>
    rose.push(n),
  );
  drops.count(Buffer.from("40")); // drops before the service came: where counting starts
  drops.count(Buffer.from("40"));
  drops.count(Buffer.from("not a number"));
  expect(lines).toHaveLength(0);
  drops.count(Buffer.from("200"));
  expect(lines).toHaveLength(1);
  expect(lines[0]?.dropped).toBe(160);
  expect(lines[0]?.msg).toMatch(
    /^twins: the broker at mqtt:\/\/lab:1883 dropped 160 messages on their way to its clients \(\$SYS\/broker\/publish\/messages\/dropped went from 40 to 200\): .*max_queued_messages\)\. If they were the twins service's \(tf-twins-1; Mosquitto's log says "Outgoing messages are being dropped for client tf-twins-1"\)/,
  );
  scheduler.advance(10_000);
  drops.count(Buffer.from("210")); // within the minute: held, and summed in the next line
  expect(lines).toHaveLength(1);
  scheduler.advance(DROPS_WARN_EVERY_MS);
  drops.count(Buffer.from("215"));
  expect(lines).toHaveLength(2);
  expect(lines[1]?.dropped).toBe(15);
  // A restarted broker counts from 0 again: no rise to tell.
  scheduler.advance(DROPS_WARN_EVERY_MS);
  drops.count(Buffer.from("0"));
  drops.count(Buffer.from("0"));
  expect(lines).toHaveLength(2);
  // Each rise counted as heard (for /metrics), the held one too.
  expect(rose).toEqual([160, 10, 5]);
});
