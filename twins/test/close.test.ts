/**
 * A clean close against a broker that stops answering mid-goodbye: the presence clear (QoS 1) is
 * never acknowledged and the connection stays open. The close gives up after CLOSE_GRACE_MS on the
 * service's scheduler, drops the connection (its socket closed at once, not at the keepalive's end)
 * and resolves, instead of waiting for a reconnect.
 * And a close while the first connect is under way (a service stopped just after it started): the
 * connection is dropped, not left to come up afterwards and stay open (the process never exited);
 * one not waiting for its broker ends its connect there, its timer with it (it held the process 10 s);
 * one closed before it connects makes no connection.
 */
import { type AddressInfo, createServer, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { CLOSE_GRACE_MS } from "../broker-link.js";
import { startTwins } from "../service.js";

/** A broker that answers CONNECT, SUBSCRIBE and QoS 1 PUBLISH until `mute`, then nothing at all. */
function muteableBroker() {
  const sockets = new Set<Socket>();
  const state = {
    mute: false,
    muteSubscribe: false,
    subscribed: 0,
    presenceCleared: false,
    holdConnack: false,
    open: 0,
  };
  const held: (() => void)[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    state.open++;
    socket.on("close", () => state.open--);
    socket.on("error", () => {});
    const parser = mqttPacket.parser();
    const send = (p: mqttPacket.Packet) => socket.write(mqttPacket.generate(p));
    parser.on("packet", (p) => {
      if (p.cmd === "publish" && p.retain && p.payload.length === 0) state.presenceCleared = true;
      if (p.cmd === "subscribe") state.subscribed++;
      if (state.mute || (state.muteSubscribe && p.cmd === "subscribe")) return;
      const connack = () => send({ cmd: "connack", returnCode: 0, sessionPresent: false });
      if (p.cmd === "connect" && state.holdConnack) held.push(connack);
      else if (p.cmd === "connect") connack();
      else if (p.cmd === "subscribe")
        send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) });
      else if (p.cmd === "unsubscribe") send({ cmd: "unsuback", messageId: p.messageId, granted: [] });
      else if (p.cmd === "publish" && p.qos === 1) send({ cmd: "puback", messageId: p.messageId });
      else if (p.cmd === "pingreq") send({ cmd: "pingresp" });
    });
    socket.on("data", (d) => parser.parse(d));
  });
  return {
    state,
    /** Answers the CONNECTs held so far. */
    release: () => {
      for (const connack of held.splice(0)) connack();
    },
    heldConnects: () => held.length,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let broker: ReturnType<typeof muteableBroker> | undefined;
afterEach(() => broker?.close());

describe("closing the twins service", () => {
  it("drops the connection once the broker has not taken the goodbye within the grace", async () => {
    broker = muteableBroker();
    const port = await broker.listen();
    const sched = new FakeScheduler(1000);
    const twins = await startTwins({ url: `mqtt://127.0.0.1:${port}`, scheduler: sched });
    broker.state.mute = true;
    let closed = false;
    const closing = twins.close().then(() => {
      closed = true;
    });
    // The goodbye goes out and is never acknowledged: the close waits, on the service's clock.
    while (!broker.state.presenceCleared) await new Promise((r) => setImmediate(r));
    sched.advance(CLOSE_GRACE_MS - 1);
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    sched.advance(1);
    await closing;
    expect(closed).toBe(true);
    // Dropped for real: MQTT.js ignored the forced end while its gentle one waited, and the socket
    // stayed open (holding the process) until the keepalive gave up, 22.5 s later.
    const b = broker;
    await expect.poll(() => b.state.open, { timeout: 5000 }).toBe(0);
  });

  it("accepted but its subscriptions never answered: told so, and the connection dropped at the grace", async () => {
    broker = muteableBroker();
    broker.state.muteSubscribe = true;
    const port = await broker.listen();
    const sched = new FakeScheduler(1000);
    const url = `mqtt://127.0.0.1:${port}`;
    // As a one-shot command starts it: no presence, so its goodbye is MQTT.js's gentle end alone,
    // which waits for the SUBACK that is not coming.
    const started = startTwins({ url, scheduler: sched, presence: false, connectTimeoutMs: 5000 }).catch(
      (e: unknown) => e,
    );
    const b = broker;
    while (b.state.subscribed === 0) await new Promise((r) => setImmediate(r));
    // The connect timeout, then the goodbye's grace, on the service's clock.
    let settled = false;
    void started.then(() => {
      settled = true;
    });
    while (!settled) {
      sched.advance(500);
      await new Promise((r) => setImmediate(r));
    }
    expect(sched.now()).toBeLessThan(1000 + 5000 + CLOSE_GRACE_MS + 1000);
    const err = String(await started);
    // The CONNACK came: it used to say "no answer (CONNACK) within 5000 ms".
    expect(err).not.toMatch(/no answer \(CONNACK\)/);
    expect(err).toMatch(
      /accepted the connection \(CONNACK\) but did not answer its subscriptions \(SUBACK\) within 5 s/,
    );
    // MQTT.js ignored the forced end while its gentle one waited for the SUBACK: the socket stayed
    // open (and held the process) until the keepalive gave up, 22.5 s later.
    await expect.poll(() => b.state.open, { timeout: 5000 }).toBe(0);
  });

  it("closed before its first CONNACK, drops the connection: none stays open once the broker answers", async () => {
    broker = muteableBroker();
    broker.state.holdConnack = true;
    const port = await broker.listen();
    const twins = await startTwins({ url: `mqtt://127.0.0.1:${port}`, waitForBroker: true });
    const b = broker;
    while (b.heldConnects() === 0) await new Promise((r) => setImmediate(r));
    await twins.close();
    // The CONNACK the broker was about to send: the client took it and held the socket for ever.
    b.release();
    await expect.poll(() => b.state.open, { timeout: 5000 }).toBe(0);
  });

  it("closed during a first connect that does not wait, ends the connect at once, not at its timeout", async () => {
    broker = muteableBroker();
    broker.state.holdConnack = true;
    const port = await broker.listen();
    const sched = new FakeScheduler(1000);
    let service: { close(): Promise<void> } | undefined;
    const url = `mqtt://127.0.0.1:${port}`;
    const started = startTwins({ url, scheduler: sched }, (t) => {
      service = t;
    }).catch((e: unknown) => e);
    const b = broker;
    while (b.heldConnects() === 0) await new Promise((r) => setImmediate(r));
    await service?.close();
    // On a clock that never moves: only the close can have ended it.
    expect(String(await started)).toMatch(/closed before its connection to mqtt:\/\/127\.0\.0\.1:\d+ was up/);
    expect(sched.pending).toBe(0);
  });

  it("closed once made, before it connects (a run stopped as its store loaded), makes no connection", async () => {
    broker = muteableBroker();
    const port = await broker.listen();
    const url = `mqtt://127.0.0.1:${port}`;
    const started = startTwins({ url, scheduler: new FakeScheduler(1000) }, (t) => void t.close());
    // It connected after its close, answered nothing and held the process for ever.
    expect(String(await started.catch((e: unknown) => e))).toMatch(
      /closed before its connection to .* was up/,
    );
    expect(broker.state.open).toBe(0);
  });
});
