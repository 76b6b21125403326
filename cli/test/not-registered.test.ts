/**
 * A node the broker will not take (a broker at its connection limit closes the connection as soon
 * as it is accepted, before any CONNACK): the run's report and summary say which nodes never
 * registered and how their last connection failed, instead of a bare "3/4 registered".
 */
import { createServer, connect as netConnect, type Server } from "node:net";
import { pino } from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type BrokerHost, openBrokerHost } from "../../fleet/broker-host.js";
import { FleetRun } from "../../fleet/run.js";
import { RealScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import { summary } from "../sim-summary.js";

let broker: BrokerHost;
let proxy: Server;
let proxyUrl: string;

beforeEach(async () => {
  broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
  const { port } = new URL(broker.url);
  // Passes every connection to the broker but n-0001's, which it closes on its CONNECT.
  proxy = createServer((socket) => {
    socket.once("data", (first: Buffer) => {
      if (first.includes("tf-n-0001")) {
        socket.destroy();
        return;
      }
      const up = netConnect(Number(port), "127.0.0.1", () => up.write(first));
      socket.pipe(up).pipe(socket);
      const end = () => {
        socket.destroy();
        up.destroy();
      };
      socket.on("error", end).on("close", end);
      up.on("error", end).on("close", end);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const addr = proxy.address();
  proxyUrl = `mqtt://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});

afterEach(async () => {
  proxy.close();
  await broker.close();
});

it("names the nodes that never registered and how their connections failed", async () => {
  const run = await FleetRun.start({
    broker: proxyUrl,
    nodes: 4,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 0.5,
    workers: 1,
    profile: "ideal",
    // A socket timeout of 1 s: n-0001 gives up waiting for its CONNACK after 1 s, and tries again.
    profileOverrides: { mqtt: { socketTimeoutS: 1 } },
    fresh: true,
  });
  await new Promise<void>((resolve) => {
    const check = () =>
      run.registeredAt.size === 3 && run.collector.lastConnectFailure.has(NodeId("n-0001"))
        ? resolve()
        : run.sched.at(run.sched.now() + 50, check);
    check();
  });
  run.cut();
  const r = await run.done;
  expect(r.registration.registered).toBe(3);
  expect(r.registration.notRegistered).toEqual({
    nodes: 1,
    first: ["n-0001"],
    lastConnectFailure: { "connack-timeout": 1 },
  });
  expect(summary(r)).toContain(
    "not registered 1 (n-0001): 1 connected but had no CONNACK within the socket timeout (a broker at its connection limit",
  );
}, 60_000);

it("says so when the nodes' CONNECT is over the board's PubSubClient buffer (a long --node-password)", async () => {
  // tf-n-0000, will tf/status/n-0000 "T1 0", user n-0000: 58 bytes before a password, so 197 is one
  // byte over the uno's 256 and its connect() gives up without sending (PubSubClient 2.8).
  const run = await FleetRun.start({
    broker: broker.url,
    nodes: 2,
    topology: "pairs",
    groupSize: 2,
    ratePerNodePerMin: 0,
    durationS: 60,
    settleS: 0.5,
    workers: 1,
    profile: "uno-w5100",
    nodePassword: "x".repeat(197),
    fresh: true,
  });
  // Both fail within a reconnect period; 20 s at most (without the check they wait for a CONNACK).
  const giveUpAt = run.sched.now() + 20_000;
  await new Promise<void>((resolve) => {
    const check = () =>
      run.collector.lastConnectFailure.size === 2 || run.sched.now() > giveUpAt
        ? resolve()
        : run.sched.at(run.sched.now() + 50, check);
    check();
  });
  run.cut();
  const r = await run.done;
  expect(r.registration.notRegistered).toEqual({
    nodes: 2,
    first: ["n-0000", "n-0001"],
    lastConnectFailure: { "connect-too-long": 2 },
  });
  expect(summary(r)).toContain(
    "not registered 2 (n-0000, n-0001): 2 could not log in: their CONNECT (client id, last will, user name, password) is over the profile's PubSubClient buffer",
  );
}, 60_000);
