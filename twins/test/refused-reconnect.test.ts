/**
 * A broker that refuses one of the nodes' topics on a re-connect (its access rules changed across a
 * restart; here `denySubscribe`, as `twinfleet broker --deny-subscribe`, SUBACK 0x80): the replay's
 * end is still judged. The refused SUBSCRIBE used to leave the wait unbegun: the reports of
 * unexplained origin stayed held, and the share with them, until the next connect. Real sockets to a
 * twinfleet broker restarted on its port; the service's clock is a FakeScheduler, so the replay is
 * over exactly when the test says.
 */
import { pino } from "pino";
import { expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { REPLAY_SETTLE_MS } from "../replay-end.js";
import { startTwins } from "../service.js";
import { rawClient } from "./helpers.js";
import { cleanupAfterEach } from "./own-broker.js";
import { when } from "./poll.js";
import { dataDir } from "./restart-rig.js";

const cleanup = cleanupAfterEach();

function brokerOn(dir: string, port: number, refusals: string[], denySubscribe: string[] = []) {
  const logger = pino({ level: "info" }, { write: (s: string) => void refusals.push(JSON.parse(s).msg) });
  return startBroker({ host: "127.0.0.1", port, dataDir: dir, logger, denySubscribe });
}

it("judges the reports held after a re-connect whose SUBSCRIBE of a node topic was refused", async () => {
  const dir = await dataDir(cleanup, "tf-refused-");
  const seen: string[] = [];
  let broker: RunningBroker = await brokerOn(dir, 0, seen);
  cleanup.push(() => broker.close());
  const raw0 = await rawClient(broker.url);
  await raw0.publishAsync("tf/config/n-0001", "C1 1 n-0002", { qos: 1, retain: true });
  await raw0.endAsync();
  const scheduler = new FakeScheduler(0);
  const warned: { reason?: string; msg: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (l: string) => void warned.push(JSON.parse(l)) });
  const t = await startTwins({ url: broker.url, scheduler, logger, reconnectPeriodMs: 100 });
  cleanup.push(() => t.close());
  await when(() => t.get("n-0001")?.follows?.[0] === "n-0002");
  scheduler.advance(REPLAY_SETTLE_MS);

  // The broker back on its port with rules that refuse the registers to this login.
  const { port } = broker;
  await broker.close();
  const refusals: string[] = [];
  broker = await brokerOn(dir, port, refusals, ["tf/register/+"]);
  await when(() => refusals.some((m) => m.includes("subscribe refused")), 20_000);
  const raw = await rawClient(broker.url);
  cleanup.push(() => raw.endAsync());
  // A report no config explains, while the replay is not over: held; then a config, to see it came.
  await raw.publishAsync("tf/report/n-0001", "R1 1 12 n-0009", { qos: 1 });
  await raw.publishAsync("tf/config/n-0002", "C1 1 n-0003", { qos: 1, retain: true });
  await when(() => t.get("n-0002")?.follows?.[0] === "n-0003");
  const bad = () => warned.filter((l) => l.reason === "spoofed-origin").map((l) => [l.reason, l.msg]);
  expect(bad()).toEqual([]);
  scheduler.advance(REPLAY_SETTLE_MS);
  expect(bad()).toEqual([
    ["spoofed-origin", "twins: bad input: stamp 12@n-0009: n-0009 is neither n-0001 nor upstream of it"],
  ]);
});
