/**
 * A broker that closes each new connection at once (at its open-files limit the operating system
 * accepts and closes them): every connection a run makes before its nodes boot — the look for a
 * twins service, the claim on its ids, its probe's watch client — is refused then, with the line
 * that says so, instead of waiting for ever (MQTT.js emits `close` alone, and its connectAsync never
 * settled). A stop while the run looks for a twins service ends the look at once, as it ends the
 * connect of the run's own twins service and of its broker probe (each used to wait its 10 s).
 */
import { once } from "node:events";
import net from "node:net";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { Prefix } from "../../protocol/index.js";
import { fleetIds } from "../../sim/topology.js";
import { BrokerConnectError, findTwinsServices, memoryStore, startTwins } from "../../twins/index.js";
import { openBrokerProbe } from "../broker-probe.js";
import { claimFleet } from "../fleet-claim.js";
import { FleetStartStoppedError } from "../ids-in-use.js";
import { connectWatchClient } from "../shard-watch.js";
import { TwinsHost } from "../twins-host.js";

const servers: net.Server[] = [];
const held: net.Socket[] = [];

afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A TCP server on port 0 that does `each` to every connection it accepts; its mqtt:// URL. */
async function server(each: (s: net.Socket) => void): Promise<{ url: string; accepted: () => number }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    held.push(s);
    s.on("error", () => {});
    each(s);
  });
  servers.push(srv);
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as net.AddressInfo;
  return { url: `mqtt://127.0.0.1:${port}`, accepted: () => n };
}

/** Closed at accept, without a reset: what a broker out of files does. */
const closing = () => server((s) => s.end());

const CLOSED =
  /^cannot reach the broker at mqtt:\/\/127\.0\.0\.1:\d+: it closed the connection at once, before its CONNACK \(a broker at its open-files limit/;

it("refuses the run's claim on its ids at once (it used to wait for ever)", async () => {
  const { url } = await closing();
  const sched = new FakeScheduler();
  const ids = fleetIds(2);
  const got = await claimFleet(
    { url, prefix: Prefix("tf"), ids, keepaliveS: 1, waitMs: 1000 },
    sched,
    () => {},
  ).catch((e: unknown) => e);
  expect(got).toBeInstanceOf(BrokerConnectError);
  expect((got as Error).message).toMatch(CLOSED);
});

it("refuses the probe's watch client at its first close (it used to reconnect every 200 ms, for ever)", async () => {
  const { url, accepted } = await closing();
  const got = await connectWatchClient(url, undefined).catch((e: unknown) => e);
  expect(got).toBeInstanceOf(BrokerConnectError);
  expect((got as Error).message).toMatch(CLOSED);
  expect(accepted()).toBe(1);
});

it("tells the look for a twins service closed at once, not unanswered (on a clock that never moves)", async () => {
  const { url } = await closing();
  const got = await findTwinsServices(url, "tf", { timeoutMs: 1000, scheduler: new FakeScheduler() }).catch(
    (e: unknown) => e,
  );
  expect(got).toBeInstanceOf(BrokerConnectError);
  expect((got as Error).message).toMatch(CLOSED);
});

it("ends a look on a broker that never answers at the run's stop, and a claim's connect too", async () => {
  const { url } = await server(() => {});
  const stop = new AbortController();
  const sched = new FakeScheduler();
  const look = findTwinsServices(url, "tf", { timeoutMs: 10_000, scheduler: sched, signal: stop.signal });
  const claim = claimFleet(
    { url, prefix: Prefix("tf"), ids: fleetIds(2), keepaliveS: 1, waitMs: 1000 },
    sched,
    () => {},
    stop.signal,
  );
  const caught = [look.catch((e: unknown) => e), claim.catch((e: unknown) => e)];
  stop.abort("SIGTERM");
  const [looked, claimed] = await Promise.all(caught);
  expect(looked).toBe("SIGTERM");
  expect(claimed).toBeInstanceOf(FleetStartStoppedError);
  expect((claimed as FleetStartStoppedError).reason).toBe("SIGTERM");
  expect((claimed as Error).message).toBe("stopped while connecting to the broker: nothing ran");
});

it("ends the run's own twins service's connect and its probe's at the run's stop (each waited its 10 s)", async () => {
  let open = 0;
  const { url } = await server((s) => {
    open++;
    s.resume(); // read, so that its end is seen
    s.on("close", () => open--);
  });
  const stop = new AbortController();
  const sched = new FakeScheduler();
  const logger = pino({ level: "silent" });
  const twins = TwinsHost.start(
    (created) =>
      startTwins({ url, prefix: Prefix("tf"), logger, scheduler: sched, store: memoryStore() }, created),
    stop.signal,
  );
  const probe = openBrokerProbe(
    url,
    undefined,
    Prefix("tf"),
    sched,
    () => {},
    undefined,
    undefined,
    stop.signal,
  );
  const caught = [twins.catch((e: unknown) => e), probe.catch((e: unknown) => e)];
  while (open < 2) await new Promise((r) => setImmediate(r));
  stop.abort("SIGTERM");
  const [started, probed] = await Promise.all(caught);
  expect(started).toBe("SIGTERM");
  expect(probed).toBeInstanceOf(FleetStartStoppedError);
  expect((probed as Error).message).toBe("stopped while connecting the run's broker probe: nothing ran");
  // The service stopped lets go of its connection.
  while (open > 0) await new Promise((r) => setImmediate(r));
});
