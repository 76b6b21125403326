/**
 * A run's probe of a broker outside its process: while the broker answers, no outage however long;
 * frozen with its sockets open (here a proxy that stops passing bytes), lost once it has been silent
 * 5 s, dated from its last answer; back with its next. Real sockets to a broker on port 0;
 * the run's clock is a FakeScheduler stepped by the test.
 */
import { type AddressInfo, createServer } from "node:net";
import { Aedes, type AedesOptions } from "aedes";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { freezableProxy } from "../../twins/test/freezable-proxy.js";
import { answeredStep, when } from "../../twins/test/poll.js";
import { BrokerOutages } from "../broker-outages.js";
import { type BrokerProbe, openBrokerProbe } from "../broker-probe.js";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

it("tells a broker frozen with its sockets open lost after 5 s of silence, and back with its next answer", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
  cleanup.push(() => broker.close());
  const proxy = await freezableProxy(broker.port);
  cleanup.push(() => proxy.close());
  const sched = new FakeScheduler(0);
  const probe: BrokerProbe = await openBrokerProbe(proxy.url, undefined, Prefix("tf"), sched, () => {});
  cleanup.push(() => probe.close());
  const outages = new BrokerOutages([undefined, probe.watch], () => sched.now());
  for (let i = 0; i < 16; i += 1) await answeredStep(proxy, sched);
  expect(outages.seen).toBe(false);
  const lastAnswer = sched.now();
  proxy.freeze();
  for (let i = 0; i < 9; i += 1) sched.advance(500);
  expect(outages.seen).toBe(false); // 4.5 s of silence: not yet
  sched.advance(500);
  sched.advance(500);
  expect(outages.downS()).toBeGreaterThan(0);
  proxy.thaw();
  await when(() => outages.downS() === undefined);
  const [span, ...more] = outages.list(sched.now());
  expect(more).toEqual([]);
  expect(span?.back).toBe(true);
  expect(span?.startMs).toBeLessThanOrEqual(lastAnswer);
  expect(span?.startMs).toBeGreaterThanOrEqual(lastAnswer - 500);
});

/** A probe on a plain aedes with `options` (its access hooks), on a stepped clock: its lines and outages. */
async function probeOn(options: AedesOptions) {
  const aedes = await Aedes.createBroker(options);
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
  });
  const sched = new FakeScheduler(0);
  const lines: string[] = [];
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = await openBrokerProbe(
    url,
    undefined,
    Prefix("tf"),
    sched,
    () => {},
    (l) => lines.push(l),
  );
  cleanup.push(() => probe.close());
  return { sched, lines, outages: new BrokerOutages([probe.watch], () => sched.now()) };
}

it("tells nothing while its probe has never come back, and says when the broker refuses the probe's topic", async () => {
  // A broker whose access rules refuse the probe's subscription: nothing echoes, keepalive pings only.
  const { sched, lines, outages } = await probeOn({
    authorizeSubscribe: (_client, sub, done) => done(null, sub.topic.includes("/run-probe/") ? null : sub),
  });
  await when(() => lines.length === 1);
  expect(lines[0]).toMatch(
    /^the broker refused the run's probe subscription to tf\/run-probe\/[0-9a-f]{12}: a frozen broker is told only when its keepalive runs out/,
  );
  for (let i = 0; i < 40; i += 1) sched.advance(500);
  expect(outages.seen).toBe(false);
  expect(lines).toHaveLength(1);
});

it("says when its probe has not come back in 10 s though the broker granted it (access rules that deliver nothing)", async () => {
  const { sched, lines, outages } = await probeOn({
    authorizeForward: (_client, packet) => (packet.topic.includes("/run-probe/") ? null : packet),
  });
  for (let i = 0; i < 19; i += 1) sched.advance(500);
  expect(lines).toEqual([]);
  sched.advance(500);
  expect(lines).toEqual([
    expect.stringMatching(
      /^the run's probe on tf\/run-probe\/[0-9a-f]{12} has not come back in 10 s: a frozen broker is told only/,
    ),
  ]);
  expect(outages.seen).toBe(false);
});

it("makes one outage of what two watchers saw, a late loss dated into it extending it", () => {
  let t = 0;
  type Listener = (connected: boolean, lastHeardAt?: number) => void;
  const source = () => {
    let listener: Listener = () => {};
    return {
      on: (_: "broker", l: Listener) => {
        listener = l;
      },
      tell: (connected: boolean, lastHeardAt?: number) => listener(connected, lastHeardAt),
    };
  };
  const probe = source();
  const twins = source();
  const outages = new BrokerOutages([twins, probe], () => t);
  t = 6000;
  probe.tell(false, 1000); // silent 5 s
  t = 11_000;
  probe.tell(true); // heard again
  t = 18_000;
  twins.tell(false, 900); // the twins' keepalive ran out on the same freeze
  t = 19_000;
  twins.tell(true);
  probe.tell(true);
  t = 40_000;
  probe.tell(false, 35_000); // another one
  expect(outages.list(41_000)).toEqual([
    { startMs: 1000, endMs: 19_000, back: true },
    { startMs: 35_000, endMs: 41_000, back: false },
  ]);
});
