/**
 * The broker's deadlines when its clients were frozen with it: a `sim` whose embedded broker and
 * nodes share one process, a twins service in the same paused VM. They sent nothing while the process
 * did not run, and send when it runs again, a moment after the broker has fired every deadline that
 * came due meanwhile and looked at the ready I/O, in which nothing from them is waiting yet. Here the
 * broker's own clock (its stall watch, node/stall-watch.ts) jumps with the fake timeouts, the
 * deadlines are judged after the ready I/O (a real setImmediate), and only then do the clients'
 * packets arrive: unfixed, the keepalive cut the clients and published their wills, the CONNECT wait
 * refused the connection and the will grace published the wills of nodes about to reconnect.
 */
import type { Aedes, Client } from "aedes";
import type MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import pino from "pino";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { STALL_RECONNECT_MS } from "../../node/stall-watch.js";
import { CONNECT_TIMEOUT, ConnectWaits } from "../connect-budget.js";
import { scheduleStaleWills, type WillStore } from "../stale-wills.js";
import {
  acceptConnection,
  afterIo,
  BrokerClock,
  closeFrozenBroker,
  connectedNode,
  connectionErrors,
  type FrozenBroker,
  nodeConnect,
  openFrozenBroker,
  storeStaleWill,
} from "./frozen-broker.js";

const KEEPALIVE_S = 15;
/** Aedes cuts a client silent for 1.5 × its keepalive (+ 1 ms). */
const CUT_MS = KEEPALIVE_S * 1500 + 1;
const CONNECT_TIMEOUT_MS = 2_000;
const GRACE_MS = 20_000;
const PINGRESP = Buffer.from([0xd0, 0x00]);

let clock: BrokerClock;
let broker: FrozenBroker;
let aedes: Aedes;
let persistence: MemoryPersistence;
let wills: string[];
let waits: ConnectWaits;
let cuts: string[];
let errors: string[];

beforeEach(async () => {
  clock = new BrokerClock();
  broker = await openFrozenBroker(clock.stalled);
  ({ aedes, persistence, wills } = broker);
  waits = new ConnectWaits(aedes, undefined, clock.stalled);
  cuts = [];
  errors = connectionErrors(aedes);
  aedes.on("keepaliveTimeout", (client: Client) => cuts.push(client.id));
});

afterEach(() => closeFrozenBroker(broker));

const accept = () => acceptConnection(aedes, waits, CONNECT_TIMEOUT_MS);
const connectNode = (id: string) => connectedNode(aedes, id, KEEPALIVE_S);

it("a keepalive that came due while the broker did not run keeps a client frozen with it", async () => {
  const { conn, client } = await connectNode("n-1");
  clock.run(10_000);
  await afterIo();
  // The process stops 10 s after the node's CONNECT, for 20 s: the node, frozen too, has not pinged.
  clock.freeze(20_000);
  await afterIo();
  expect(cuts).toEqual([]);
  expect(wills).toEqual([]);
  expect(client.closed).toBe(false);
  // The node runs a moment after the broker: its keepalive has passed too, and it pings.
  conn.arrive({ cmd: "pingreq" });
  await afterIo();
  expect(conn.sent.at(-1)).toEqual(PINGRESP);
  clock.run(CUT_MS - 1);
  await afterIo();
  expect(cuts).toEqual([]);
});

it("a keepalive due just after the stall, before the client frozen with it has run, keeps it too", async () => {
  const { conn, client } = await connectNode("n-4");
  clock.run(3_000);
  await afterIo();
  // Stopped 3 s after the node's CONNECT for 20 s: its keepalive comes due 0.5 s after the broker
  // runs again, and the node, busy with what came due for it meanwhile, pings only 1 s after.
  clock.freeze(20_000);
  await afterIo();
  clock.run(500);
  await afterIo();
  expect(cuts).toEqual([]);
  expect(client.closed).toBe(false);
  clock.run(500);
  conn.arrive({ cmd: "pingreq" });
  await afterIo();
  expect(conn.sent.at(-1)).toEqual(PINGRESP);
  expect(wills).toEqual([]);
});

it("a client silent through the stall and after it is cut one period after the broker runs again", async () => {
  const { client } = await connectNode("n-2");
  clock.freeze(30_000);
  await afterIo();
  expect(cuts).toEqual([]);
  clock.run(CUT_MS - 1);
  await afterIo();
  expect(cuts).toEqual([]);
  clock.run(1);
  await afterIo();
  expect(cuts).toEqual(["n-2"]);
  expect(client.closed).toBe(true);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/n-2 T1 0"]));
});

it("a keepalive that comes due once the broker has run again cuts as before", async () => {
  const { client } = await connectNode("n-3");
  clock.run(10_000);
  clock.freeze(5_000); // a stall, over 7.5 s before the keepalive comes due
  await afterIo();
  clock.run(CUT_MS - 15_000);
  await afterIo();
  expect(cuts).toEqual(["n-3"]);
  expect(client.closed).toBe(true);
});

it("a CONNECT wait that came due while the broker did not run is given again", async () => {
  const { conn, client } = accept();
  clock.freeze(3_000);
  await afterIo();
  expect(errors).toEqual([]);
  expect(client.closed).toBe(false);
  // The client, frozen with the broker, sends its CONNECT once it runs again.
  conn.arrive(nodeConnect("tf-c1"));
  await afterIo();
  expect(errors).toEqual([]);
  expect(conn.sent[0]?.[0]).toBe(0x20); // CONNACK
});

it("a connection silent after the stall is cut one wait after the broker runs again", async () => {
  const { client } = accept();
  clock.freeze(3_000);
  await afterIo();
  expect(client.closed).toBe(false);
  clock.run(CONNECT_TIMEOUT_MS);
  await afterIo();
  expect(errors).toEqual([CONNECT_TIMEOUT]);
  expect(client.closed).toBe(true);
});

it("a will grace that came due while the broker did not run gives the nodes frozen with it 10 s to reconnect, not a whole grace", async () => {
  await storeStaleWill(persistence, "tf-n1");
  await storeStaleWill(persistence, "tf-n2");
  scheduleStaleWills(
    aedes,
    persistence as unknown as WillStore,
    GRACE_MS,
    pino({ level: "silent" }),
    waits,
    clock.stalled,
  );
  clock.run(1_000);
  // Stopped a second into the grace, for 25 s: no node has reconnected, nothing is connecting.
  clock.freeze(25_000);
  await afterIo();
  expect(waits.size).toBe(0);
  expect(wills).toEqual([]);
  // n1 reconnects once it runs again; n2 does not (killed while frozen): its will is published
  // STALL_RECONNECT_MS later, where the whole grace held it 20 s.
  await connectNode("tf-n1");
  clock.run(STALL_RECONNECT_MS - 10);
  await afterIo();
  expect(wills).toEqual([]);
  clock.run(10);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n2 T1 0"]));
  expect(STALL_RECONNECT_MS).toBeLessThan(GRACE_MS);
});

it("a will grace that came due while the broker did not run is not given again with no client of the previous run left out", async () => {
  const lines: { msg: string; wills?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  await storeStaleWill(persistence, "tf-n1");
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, logger, waits, clock.stalled);
  // n1 is back a second into the grace (its will replaced), then the broker stops for 25 s.
  await connectNode("tf-n1");
  clock.run(1_000);
  clock.freeze(25_000);
  await afterIo();
  await afterIo();
  expect(lines.filter((l) => l.msg.includes("given again"))).toEqual([]);
  clock.run(GRACE_MS);
  await afterIo();
  expect(wills).toEqual([]);
  expect(lines.map((l) => l.msg)).toEqual([]);
});

it("the time given after a stall says how many of the previous run's wills it holds", async () => {
  const lines: { msg: string; wills?: number }[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  await storeStaleWill(persistence, "tf-n1");
  await storeStaleWill(persistence, "tf-n2");
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, logger, waits, clock.stalled);
  await connectNode("tf-n1");
  clock.run(1_000);
  clock.freeze(25_000);
  const again = (l: { msg: string }) => l.msg.includes("frozen with it are given time to reconnect");
  await vi.waitFor(() => expect(lines.filter(again)).toHaveLength(1));
  expect(lines.find(again)?.wills).toBe(1);
});

it("a client coming as the time given after a stall ends gives the whole grace again", async () => {
  await storeStaleWill(persistence, "tf-n1");
  await storeStaleWill(persistence, "tf-n2");
  // n1's CONNECT is held at authentication, as a store write holds it on a slow disk.
  const authenticate: (() => void)[] = [];
  aedes.authenticate = (_client, _user, _pass, done) => {
    authenticate.push(() => done(null, true));
  };
  scheduleStaleWills(
    aedes,
    persistence as unknown as WillStore,
    GRACE_MS,
    pino({ level: "silent" }),
    waits,
    clock.stalled,
  );
  clock.run(1_000);
  clock.freeze(25_000);
  await afterIo();
  clock.run(STALL_RECONNECT_MS - 1_000);
  accept().conn.arrive(nodeConnect("tf-n1"));
  clock.run(1_000);
  await afterIo();
  expect(wills).toEqual([]);
  for (const done of authenticate) done();
  clock.run(GRACE_MS - 10);
  await afterIo();
  expect(wills).toEqual([]);
  clock.run(10);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n2 T1 0"]));
});
