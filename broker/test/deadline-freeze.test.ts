/**
 * The broker's other deadlines after it did not run for a while (SIGSTOP, a VM paused for
 * migration): the wait for a connection's CONNECT (broker/connect-budget.ts) and the grace of the
 * previous run's wills (broker/stale-wills.ts). When the process runs again, Node runs the timers
 * that came due before it takes the connections and packets waiting in the kernel; here the fake
 * clock passes the deadline and the peer's connection or bytes arrive in the same turn, which is the
 * order the event loop takes them in after a freeze; the judgement is made after the ready I/O
 * (a real setImmediate), as for the keepalive (keepalive-freeze.test.ts).
 */
import type { Aedes } from "aedes";
import type MemoryPersistence from "aedes-persistence/asyncPersistence.js";
import mqttPacket from "mqtt-packet";
import pino from "pino";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { CONNECT_TIMEOUT, ConnectWaits } from "../connect-budget.js";
import { scheduleStaleWills, type WillStore } from "../stale-wills.js";
import {
  acceptConnection,
  afterIo,
  closeFrozenBroker,
  nodeConnect as connect,
  connectionErrors,
  type FrozenBroker,
  openFrozenBroker,
  storeStaleWill,
} from "./frozen-broker.js";

const CONNECT_TIMEOUT_MS = 2_000;
const GRACE_MS = 20_000;

let broker: FrozenBroker;
let aedes: Aedes;
let persistence: MemoryPersistence;
let wills: string[];
let waits: ConnectWaits;
let errors: string[];

beforeEach(async () => {
  broker = await openFrozenBroker();
  ({ aedes, persistence, wills } = broker);
  waits = new ConnectWaits(aedes);
  errors = connectionErrors(aedes);
});

afterEach(() => closeFrozenBroker(broker));

const accept = () => acceptConnection(aedes, waits, CONNECT_TIMEOUT_MS);

it("a CONNECT waiting to be read when the wait comes due is answered", async () => {
  const { conn, client } = accept();
  // The broker stops for 3 s just after the accept; the client's CONNECT waits in the kernel.
  vi.advanceTimersByTime(3_000);
  conn.arrive(connect("tf-c1"));
  await afterIo();
  expect(errors).toEqual([]);
  expect(client.closed).toBe(false);
  expect(conn.sent[0]?.[0]).toBe(0x20); // CONNACK
});

it("a connection that sent nothing is still cut when the wait comes due", async () => {
  const { client } = accept();
  vi.advanceTimersByTime(CONNECT_TIMEOUT_MS - 10);
  await afterIo();
  expect(client.closed).toBe(false);
  vi.advanceTimersByTime(10);
  await afterIo();
  expect(errors).toEqual([CONNECT_TIMEOUT]);
  expect(client.closed).toBe(true);
});

it("bytes the broker has not taken yet extend the wait", async () => {
  const { conn, client } = accept();
  // Bytes in its stream that the broker has not read (a TLS record still being decrypted).
  Object.defineProperty(conn, "readableLength", { get: () => 1 });
  vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
  await afterIo();
  expect(errors).toEqual([]);
  expect(client.closed).toBe(false);
});

const storedWill = (id: string) => storeStaleWill(persistence, id);

it("a reconnect waiting in the backlog at the grace gives the grace again, once", async () => {
  await storedWill("tf-n1");
  await storedWill("tf-n2");
  // The CONNECT is held at authentication, as a store write holds it on a disk.
  const authenticate: (() => void)[] = [];
  aedes.authenticate = (_client, _user, _pass, done) => {
    authenticate.push(() => done(null, true));
  };
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, pino({ level: "silent" }), waits);
  // The broker stops a second into the grace and runs again past it: the grace comes due, then the
  // connection n1 opened meanwhile is accepted and its CONNECT read.
  vi.advanceTimersByTime(GRACE_MS + 5_000);
  const { conn } = accept();
  conn.arrive(connect("tf-n1"));
  await afterIo();
  expect(authenticate).toHaveLength(1);
  for (const done of authenticate) done();
  await afterIo();
  expect(wills).toEqual([]);
  // n1 is back; n2 is not, and its will is published at the end of the second grace.
  vi.advanceTimersByTime(GRACE_MS - 10);
  await afterIo();
  expect(wills).toEqual([]);
  vi.advanceTimersByTime(10);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n2 T1 0"]));
});

it("a connection waiting at the end of the second grace does not hold it up", async () => {
  await storedWill("tf-n4");
  aedes.authenticate = () => {}; // never answered: the connection stays waiting
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, pino({ level: "silent" }), waits);
  accept().conn.arrive(connect("tf-x"));
  vi.advanceTimersByTime(GRACE_MS);
  await afterIo();
  expect(wills).toEqual([]);
  vi.advanceTimersByTime(GRACE_MS);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n4 T1 0"]));
});

it("with no connection waiting, the wills are published at the grace", async () => {
  await storedWill("tf-n3");
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, pino({ level: "silent" }), waits);
  vi.advanceTimersByTime(GRACE_MS - 1);
  await afterIo();
  expect(wills).toEqual([]);
  vi.advanceTimersByTime(1);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n3 T1 0"]));
});

it("silent connections accepted before the grace came due do not give it again", async () => {
  await storedWill("tf-n5");
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, pino({ level: "silent" }), waits);
  // A flood of sockets (or WebSocket upgrades) that send nothing, re-opened as they are cut.
  vi.advanceTimersByTime(GRACE_MS - 1_000);
  const silent = Array.from({ length: 300 }, () => acceptConnection(aedes, waits, 60_000).client);
  vi.advanceTimersByTime(1_000);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n5 T1 0"]));
  expect(waits.size).toBe(300);
  expect(silent.every((client) => !client.closed)).toBe(true);
});

it("a CONNECT begun before the grace came due gives it again", async () => {
  await storedWill("tf-n6");
  scheduleStaleWills(aedes, persistence as unknown as WillStore, GRACE_MS, pino({ level: "silent" }), waits);
  vi.advanceTimersByTime(GRACE_MS - 1_000);
  // The first bytes of a CONNECT, the rest still on its way.
  acceptConnection(aedes, waits, 60_000).conn.push(mqttPacket.generate(connect("tf-n6")).subarray(0, 5));
  acceptConnection(aedes, waits, 60_000); // and a silent one beside it
  vi.advanceTimersByTime(1_000);
  await afterIo();
  expect(wills).toEqual([]);
  expect(waits.coming(Number.POSITIVE_INFINITY)).toBe(1); // the begun CONNECT, not the silent one
  vi.advanceTimersByTime(GRACE_MS);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/tf-n6 T1 0"]));
});
