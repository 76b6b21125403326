/**
 * A run cut short (SIGTERM, a second Ctrl-C) and its end question to the twins service it joined
 * (fleet/broker-probe.ts askHeld): a cut that comes while the run waits for the answers ends the wait
 * at once, keeping those come by then (`held.cutShort`, the rest unknown and said to be the cut's);
 * a cut that came before it asks (the run cut short in its presses or its settle, which then goes
 * on to the question) changes nothing, so the report still says which nodes the service held.
 * Before, the wait took no stop: up to 2 s after the last answer. Real sockets to a broker on port
 * 0; the run's clock is a FakeScheduler that never moves, so only an answer or the cut ends a wait.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { heldAskTopic, Prefix, readHeldAsk } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { type BrokerProbe, openBrokerProbe } from "../broker-probe.js";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const turn = () => new Promise((r) => setImmediate(r));

/** A run's probe beside a broker on which it joined the twins service `ctl-a`; its log's lines. */
async function joinedProbe(): Promise<{ url: string; probe: BrokerProbe; lines: string[] }> {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  cleanup.push(() => broker.close());
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const lines: string[] = [];
  const log = { warn: (l: string) => lines.push(l), info: (l: string) => lines.push(l) };
  const probe = await openBrokerProbe(
    url,
    undefined,
    Prefix("tf"),
    new FakeScheduler(0),
    () => {},
    () => {},
    {
      service: { clientId: "ctl-a" },
      log,
    },
  );
  cleanup.push(() => probe.close());
  return { url, probe, lines };
}

it("a cut while the run asks the joined twins service ends the wait at once, the rest unknown by the cut", async () => {
  const { probe, lines } = await joinedProbe(); // nobody answers its questions
  let done = false;
  const asking = probe.askHeld(fleetIds(4)).then(() => {
    done = true;
  });
  for (let i = 0; i < 20; i++) await turn();
  expect(done).toBe(false); // its clock never moves: only the cut ends the wait
  probe.endAskHeld();
  await asking;
  expect(probe.joined?.held).toEqual({
    clientId: "ctl-a",
    asked: 4,
    answered: 0,
    notHeld: 0,
    notHeldIds: [],
    cutShort: true,
  });
  expect(lines).toEqual([
    "which nodes the fleet's twins service holds: unknown: the twins service ctl-a did not answer which of the fleet's nodes it holds (the run was cut short while it asked, and waited for no more answers)",
  ]);
});

it("a cut before the run asks leaves the question to run: the run cut short still says what the service held", async () => {
  const { url, probe, lines } = await joinedProbe();
  // The service: holds n-0000 and n-0001 of the 4, at its --max-nodes 2.
  const service = await mqtt.connectAsync(url, { clientId: "ctl-a", reconnectPeriod: 0 });
  cleanup.push(() => service.endAsync(true));
  const askTopic = heldAskTopic(Prefix("tf"), "ctl-a");
  service.on("message", (topic, payload) => {
    const ask = readHeldAsk(payload);
    if (topic !== askTopic || "bad" in ask) return;
    const notHeld = ask.ids.filter((id) => id >= "n-0002");
    const back = askTopic.replace(/\/ask$/, `/held/${ask.token}`);
    service.publish(back, `H1 ${ask.seq} 2 2 ${notHeld.join(" ")}`.trim(), { qos: 1 });
  });
  await service.subscribeAsync(askTopic, { qos: 1 });
  probe.endAskHeld(); // the run cut short during its presses
  await probe.askHeld(fleetIds(4));
  expect(probe.joined?.held).toEqual({
    clientId: "ctl-a",
    asked: 4,
    answered: 4,
    notHeld: 2,
    notHeldIds: ["n-0002", "n-0003"],
    maxNodes: 2,
    twins: 2,
  });
  expect(lines).toEqual([
    expect.stringMatching(/^2 of the fleet's 4 nodes have no twin in the twins service ctl-a/),
  ]);
});
