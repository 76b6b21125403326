/**
 * The calibration benchmark's real fleet, run inside the benchmark's network namespace
 * (bench/calibrate.ts starts it with `ip netns exec`): plain mqtt.js clients on the kernel's TCP in
 * pairs, each press a QoS 1 publish to a topic only the partner subscribes to, Poisson presses at
 * the total rate. Once every client is subscribed it installs the nftables random drop, presses for
 * the duration, waits 5 s, removes the drop and prints one JSON line: the delivered latencies
 * (publish → partner's receive, one process so one clock) and how many were not received within 5 s.
 *   node --import tsx bench/calibrate-clients.ts <clients> <ratePerS> <seconds> <lossPct> <port> <seed>
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import mqtt, { type MqttClient } from "mqtt";
import { exponential } from "../node/rng.js";
import { isNewer, type NodeId, nextCounter, type Stamp } from "../protocol/index.js";
import { judgeAsChecker, type PressLog, type ReceiptLog } from "./calibrate-judge.js";
import { nftRuleset } from "./calibrate-table.js";

const LATE_MS = 5000;
const TABLE = "twinfleet_calibrate";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const [clientsS, rateS, secondsS, lossS, portS, seedS, trafficS] = process.argv.slice(2);
const traffic = trafficS ?? "plain";
if (traffic !== "plain" && traffic !== "protocol") {
  throw new Error(`calibrate-clients: traffic must be plain or protocol, got "${traffic}"`);
}
const qos = traffic === "plain" ? 1 : 0;
const clients = Number(clientsS);
const rate = Number(rateS);
const seconds = Number(secondsS);
const lossPct = Number(lossS);
const port = Number(portS);
if (![clients, rate, seconds, lossPct, port].every(Number.isFinite) || clients < 2 || clients % 2 !== 0) {
  throw new Error(`usage: calibrate-clients <even clients ≥ 2> <rate/s> <seconds> <loss %> <port> <seed>`);
}
const rand = mulberry32(Number(seedS ?? "1"));
const now = () => performance.now();

const sent = new Map<number, number>();
const latencies: number[] = [];
const pressLog: PressLog[] = [];
const receiptLog: ReceiptLog[] = [];
let connects = 0;
/** Messages received (a QoS 1 duplicate is not a second receipt). */
const seen = new Set<number>();
/** Protocol traffic: each client's Lamport clock and state (counter, then id breaks ties). */
const clock = new Array<number>(clients).fill(0);
const state = new Array<Stamp | undefined>(clients).fill(undefined);

function connect(i: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: `cal-${i}`,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 1000,
      connectTimeout: 30_000,
    });
    c.on("connect", () => {
      connects++;
      // The partner (i ^ 1) publishes to cal/<partner>; a reconnect subscribes again. With the
      // protocol's traffic the client also subscribes to its own topic, as a node does to its report.
      const topics = traffic === "plain" ? [`cal/${i ^ 1}`] : [`cal/${i ^ 1}`, `cal/${i}`];
      c.subscribe(topics, { qos }, (err) => (err ? reject(err) : resolve(c)));
    });
    c.on("message", (topic, payload) => {
      if (topic === `cal/${i}`) return; // the echo of its own report
      const text = payload.toString();
      if (traffic === "protocol") {
        // "p <id> <counter> <origin>": the partner's press; "f …": its forward of this client's own.
        const [kind, idS, counterS, originS] = text.split(" ");
        const stamp: Stamp = { counter: Number(counterS), origin: `cal-${originS}` as NodeId };
        clock[i] = Math.max(clock[i] as number, stamp.counter);
        const held = state[i];
        if (held === undefined || isNewer(stamp, held)) {
          state[i] = stamp;
          c.publish(`cal/${i}`, `f ${idS} ${counterS} ${originS}`, { qos: 0 });
        }
        if (kind !== "p") return;
        return received(Number(idS));
      }
      received(Number(text));
    });
    c.on("error", () => {});
  });
}

function received(id: number): void {
  if (!seen.has(id)) receiptLog.push({ id, at: now() });
  seen.add(id);
  const at = sent.get(id);
  if (at === undefined) return; // a duplicate (QoS 1) of one already counted
  sent.delete(id);
  latencies.push(now() - at);
}

const deadline = setTimeout(() => {
  console.error("calibrate-clients: clients did not connect within 30 s");
  process.exit(1);
}, 30_000);
const fleet = await Promise.all(Array.from({ length: clients }, (_, i) => connect(i)));
clearTimeout(deadline);

execFileSync("nft", ["-f", "-"], { input: nftRuleset(TABLE, port, lossPct) });
let lost = 0;
let presses = 0;
const endAt = now() + seconds * 1000;
let next = now();
await new Promise<void>((done) => {
  const press = () => {
    const t = now();
    while (next <= t && next < endAt) {
      const id = presses++;
      const from = Math.floor(rand() * clients);
      sent.set(id, t);
      pressLog.push({ id, from, at: t });
      if (traffic === "plain") fleet[from]?.publish(`cal/${from}`, String(id), { qos: 1 });
      else {
        clock[from] = nextCounter(clock[from] as number);
        state[from] = { counter: clock[from] as number, origin: `cal-${from}` as NodeId };
        fleet[from]?.publish(`cal/${from}`, `p ${id} ${clock[from]} ${from}`, { qos: 0 });
      }
      setTimeout(() => {
        if (sent.delete(id)) lost++;
      }, LATE_MS);
      next += exponential(rand, 1000 / rate);
    }
    if (next >= endAt) setTimeout(done, LATE_MS + 100);
    else setTimeout(press, Math.max(0, next - now()));
  };
  press();
});
execFileSync("nft", ["delete", "table", "inet", TABLE]);
await Promise.all(fleet.map((c) => c.endAsync(true)));
const sync = judgeAsChecker(clients, pressLog, receiptLog);
console.log(
  JSON.stringify({
    presses,
    lost,
    reconnects: connects - clients,
    latencies: latencies.map((x) => Math.round(x * 1000) / 1000),
    sync: { ...sync, latencies: sync.latencies.map((x) => Math.round(x * 1000) / 1000) },
  }),
);
process.exit(0);
