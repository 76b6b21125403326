/**
 * A client's watch (a shard's, a run's probe, the twins service's link) tells a broker that stays
 * connected but says nothing (frozen, or cut off with the socket open) as lost once it has been
 * silent SILENCE_MS, dated from its last packet,
 * and back with its next; a check that comes late (this process stalled) tells nothing. A connection
 * that drops is lost at the drop when the broker's side ended it (a kill -9 was told up to 0.5 s
 * early, from the last probe), from the last packet when the keepalive did.
 */
import { EventEmitter } from "node:events";
import type mqtt from "mqtt";
import { expect, it } from "vitest";
import type { Scheduler, Timer } from "../../node/scheduler.js";
import { ANSWERED_AT_ONCE_MS, SILENCE_MS, watchConnection } from "../broker-watch.js";

/** A scheduler whose one pending timer (the silence check) the test fires at the time it sets. */
function stub(): { sched: Scheduler; set(t: number): void; fire(): void } {
  let t = 0;
  let pending: (() => void) | undefined;
  const sched = {
    now: () => t,
    wallNow: () => t,
    at: (_at: number, fn: () => void): Timer => {
      pending = fn;
      return { cancel: () => {} };
    },
  } as Scheduler;
  return {
    sched,
    set: (to) => {
      t = to;
    },
    fire: () => pending?.(),
  };
}

it("tells a silent broker lost from its last packet, back with its next, and a stall nothing", () => {
  const s = stub();
  const client = new EventEmitter();
  const told: [boolean, number | undefined][] = [];
  const timers: Timer[] = [];
  watchConnection(
    client as unknown as mqtt.MqttClient,
    () => s.sched.now(),
    () => {},
    { sched: s.sched, afterMs: SILENCE_MS, timers },
  ).on("broker", (up, at) => told.push([up, at]));
  expect(timers).toHaveLength(1);
  const checkAt = (t: number) => {
    s.set(t);
    s.fire();
  };
  const packetAt = (t: number) => {
    s.set(t);
    client.emit("packetreceive");
  };
  packetAt(1000);
  for (let t = 500; t < 6000; t += 500) checkAt(t);
  expect(told).toEqual([]);
  checkAt(6000); // 5 s since the last packet
  checkAt(6500);
  expect(told).toEqual([[false, 1000]]);
  packetAt(6700);
  expect(told).toEqual([
    [false, 1000],
    [true, undefined],
  ]);
  // This process stalls 6 s: the late check tells nothing; the packets it had not read come next.
  for (let t = 7000; t <= 8000; t += 500) checkAt(t);
  checkAt(14_000);
  packetAt(14_010);
  checkAt(14_500);
  expect(told).toHaveLength(2);
  // Silent again, then the connection goes: one outage, back once on reconnect.
  for (let t = 15_000; t <= 20_000; t += 500) checkAt(t);
  expect(told.at(-1)).toEqual([false, 14_010]);
  client.emit("offline");
  client.emit("connect");
  expect(told.slice(2)).toEqual([
    [false, 14_010],
    [true, undefined],
  ]);
});

it("dates a connection its broker ended at the drop, one its keepalive ended from the last packet, and a return from its attempt", () => {
  const s = stub();
  const client = new EventEmitter() as EventEmitter & { stream?: object };
  const told: [boolean, number | undefined][] = [];
  watchConnection(
    client as unknown as mqtt.MqttClient,
    () => s.sched.now(),
    () => {},
  ).on("broker", (up, at) => told.push([up, at]));
  s.set(1000);
  client.emit("packetreceive");
  // The broker killed at 1,400 ms: its side closed the socket (read to its end), noticed at once.
  s.set(1400);
  client.stream = { readableEnded: true, errored: null };
  client.emit("offline");
  client.emit("connect");
  // Reset by the broker's side (a write that met a closed socket): the same.
  s.set(2000);
  client.emit("packetreceive");
  s.set(2300);
  client.stream = { readableEnded: false, errored: new Error("write EPIPE") };
  client.emit("offline");
  // Back: when the reconnect that got through began, before its CONNACK.
  s.set(2900);
  client.emit("reconnect");
  s.set(2950);
  client.emit("connect");
  // Ended by this client, its ping unanswered: the broker was lost when last heard.
  s.set(3000);
  client.emit("packetreceive");
  s.set(25_500);
  client.stream = { readableEnded: false, errored: null };
  client.emit("offline");
  expect(told).toEqual([
    [false, 1400],
    [true, undefined],
    [false, 2300],
    [true, 2900],
    [false, 3000],
  ]);
});

it("dates a return from its attempt when the broker answered it at once, from the answer when it answered late", async () => {
  const s = stub();
  const client = new EventEmitter() as EventEmitter & { stream?: object };
  const told: [boolean, number | undefined][] = [];
  watchConnection(
    client as unknown as mqtt.MqttClient,
    () => s.sched.now(),
    () => {},
  ).on("broker", (up, at) => told.push([up, at]));
  s.set(1000);
  client.emit("packetreceive");
  // Restarted: the attempt that got through is answered within a few hundred ms, behind a crowd.
  s.set(2000);
  client.stream = { readableEnded: true, errored: null };
  client.emit("offline");
  s.set(7000);
  client.emit("reconnect");
  s.set(7000 + ANSWERED_AT_ONCE_MS);
  client.emit("connect");
  expect(told).toEqual([
    [false, 2000],
    [true, 7000],
  ]);
  // Frozen (kill -STOP): its kernel takes the attempt's connection into the listen queue at 50 s,
  // and the broker answers when it is continued, 8 s later. It was not back when the attempt began.
  s.set(10_000);
  client.emit("packetreceive");
  s.set(40_000);
  client.stream = { readableEnded: false, errored: null };
  client.emit("offline");
  s.set(50_000);
  const socket = Object.assign(new EventEmitter(), { connecting: true });
  client.emit("reconnect");
  client.stream = socket;
  await Promise.resolve();
  socket.connecting = false;
  socket.emit("connect"); // the kernel's handshake, at once
  s.set(58_000);
  client.emit("connect");
  expect(told.slice(2)).toEqual([
    [false, 10_000],
    [true, undefined],
  ]);
});

it("dates a return over a path that was cut from the TCP connection that got through, not from its attempt's start", async () => {
  const s = stub();
  const client = new EventEmitter() as EventEmitter & { stream?: object };
  const told: [boolean, number | undefined][] = [];
  watchConnection(
    client as unknown as mqtt.MqttClient,
    () => s.sched.now(),
    () => {},
  ).on("broker", (up, at) => told.push([up, at]));
  s.set(1000);
  client.emit("packetreceive");
  // The path cut: the keepalive ends the connection; the broker was lost when last heard.
  s.set(20_000);
  client.stream = { readableEnded: false, errored: null };
  client.emit("offline");
  // A reconnect begins at 38 s; its SYN is dropped until the path heals at 40 s, and the kernel's
  // retransmission gets through at 41 s (MQTT.js opens the stream right after `reconnect`).
  s.set(38_000);
  const socket = Object.assign(new EventEmitter(), { connecting: true });
  client.emit("reconnect");
  client.stream = socket;
  await Promise.resolve();
  s.set(41_000);
  socket.connecting = false;
  socket.emit("connect");
  s.set(41_300);
  client.emit("connect");
  // A later attempt whose stream tells no TCP connection (a WebSocket): dated from its start.
  s.set(42_000);
  client.emit("packetreceive");
  s.set(43_000);
  client.stream = { readableEnded: true, errored: null };
  client.emit("offline");
  s.set(44_000);
  client.emit("reconnect");
  client.stream = new EventEmitter();
  await Promise.resolve();
  s.set(44_500);
  client.emit("connect");
  expect(told).toEqual([
    [false, 1000],
    [true, 41_000],
    [false, 43_000],
    [true, 44_000],
  ]);
});
