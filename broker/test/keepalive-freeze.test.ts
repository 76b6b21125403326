/**
 * Aedes's keepalive check (patched in patches/aedes+1.2.0.patch) after the broker did not run for a
 * while: a process stopped (SIGSTOP, a VM paused for migration, a swapping host, a long GC pause)
 * keeps its sockets, and the kernel keeps taking the clients' packets. When it runs again, Node runs
 * the timers that came due before it reads the sockets, so unpatched every keepalive that ran out
 * meanwhile cut its client — and published its will — although its PINGREQ was already waiting to be
 * read. Here the client's bytes are pushed to its stream unread and the fake clock passes the
 * keepalive in the same turn, which is the order the event loop takes them in after a freeze; the
 * judgement is made after the ready I/O (a real setImmediate).
 */
import type { Aedes, Client } from "aedes";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import {
  afterIo as afterIoTurns,
  closeFrozenBroker,
  connectedNode,
  type FrozenBroker,
  openFrozenBroker,
} from "./frozen-broker.js";

const KEEPALIVE_S = 15;
/** Aedes cuts a client silent for 1.5 × its keepalive (+ 1 ms). */
const CUT_MS = KEEPALIVE_S * 1500 + 1;

let broker: FrozenBroker;
let aedes: Aedes;
let wills: string[];
let cuts: string[];

/** Lets the real event loop turn: the stream's reads (next ticks) and one check phase. */
const afterIo = () => afterIoTurns(3);

beforeEach(async () => {
  broker = await openFrozenBroker();
  ({ aedes, wills } = broker);
  cuts = [];
  aedes.on("keepaliveTimeout", (client: Client) => cuts.push(client.id));
});

afterEach(() => closeFrozenBroker(broker));

const connectNode = (id: string) => connectedNode(aedes, id, KEEPALIVE_S);

it("a PINGREQ waiting to be read when the keepalive comes due keeps the client", async () => {
  const { conn, client } = await connectNode("n-1");
  vi.advanceTimersByTime(15_000);
  // The broker stops for 20 s; 15 s after its last packet the node pings, and the kernel keeps it.
  conn.arrive({ cmd: "pingreq" });
  vi.advanceTimersByTime(20_000);
  await afterIo();
  expect(cuts).toEqual([]);
  expect(wills).toEqual([]);
  expect(client.closed).toBe(false);
  // The ping was answered, and the node has a whole period from it.
  expect(conn.sent.at(-1)).toEqual(Buffer.from([0xd0, 0x00]));
  vi.advanceTimersByTime(CUT_MS - 1);
  await afterIo();
  expect(cuts).toEqual([]);
});

it("a PUBLISH waiting to be read keeps the client as well", async () => {
  const { conn, client } = await connectNode("n-2");
  conn.arrive({
    cmd: "publish",
    topic: "tf/report/n-2",
    payload: Buffer.from("r"),
    qos: 0,
    retain: false,
    dup: false,
  });
  vi.advanceTimersByTime(30_000);
  await afterIo();
  expect(cuts).toEqual([]);
  expect(client.closed).toBe(false);
});

it("a client that sent nothing is still cut at 1.5 × its keepalive, and its will published", async () => {
  const { client } = await connectNode("n-3");
  vi.advanceTimersByTime(CUT_MS - 1);
  await afterIo();
  expect(cuts).toEqual([]);
  vi.advanceTimersByTime(1);
  await afterIo();
  expect(cuts).toEqual(["n-3"]);
  expect(client.closed).toBe(true);
  await vi.waitFor(() => expect(wills).toEqual(["tf/status/n-3 T1 0"]));
});

it("a client silent through a freeze is cut once the ready I/O shows nothing from it", async () => {
  const { conn: quiet } = await connectNode("n-4");
  const { conn: live } = await connectNode("n-5");
  live.arrive({ cmd: "pingreq" });
  vi.advanceTimersByTime(40_000);
  await afterIo();
  expect(cuts).toEqual(["n-4"]);
  expect(quiet.destroyed).toBe(true);
  expect(live.destroyed).toBe(false);
});

it("bytes the broker has not taken yet (its batch still being handled) keep the client", async () => {
  // The node's two publishes, read together, wait for their authorization: aedes reads no more of
  // the connection until they are handled, so the ping behind them waits in the stream.
  const authorize: (() => void)[] = [];
  aedes.authorizePublish = (_client, _packet, done) => {
    authorize.push(() => done(null));
  };
  const { conn, client } = await connectNode("n-6");
  const report = { cmd: "publish", topic: "tf/report/n-6", qos: 0, retain: false, dup: false } as const;
  conn.arrive({ ...report, payload: Buffer.from("1") }, { ...report, payload: Buffer.from("2") });
  await afterIo();
  expect(authorize).toHaveLength(2);
  conn.arrive({ cmd: "pingreq" });
  vi.advanceTimersByTime(CUT_MS + 20_000);
  await afterIo();
  expect(cuts).toEqual([]);
  expect(client.closed).toBe(false);
  expect(conn.readableLength).toBeGreaterThan(0);
  for (const done of authorize) done();
  await afterIo();
  expect(conn.sent.at(-1)).toEqual(Buffer.from([0xd0, 0x00]));
});
