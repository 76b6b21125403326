/**
 * `findTwinsServices` reads every retained presence on the broker, however many there are: a broker
 * (Aedes) sends a new subscription's retained messages one by one after its SUBACK, and the marker
 * that ends the look, published after the SUBACK, can overtake the last of them.
 */
import { createServer, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { findTwinsServices, PresenceLookUnfinished } from "../presence.js";
import { startTwins } from "../service.js";
import { Fixtures } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

describe("findTwinsServices", () => {
  it("finds every service holding a presence, look after look", async () => {
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = fx.track(await startTwins({ url: b.url, probe: false }), (x) => x.close());
      ids.push(t.clientId);
    }
    ids.sort();
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) counts.push((await findTwinsServices(b.url)).length);
    expect(counts.filter((n) => n !== ids.length)).toEqual([]);
    expect((await findTwinsServices(b.url)).map((s) => s.clientId)).toEqual(ids);
  });

  it("says it cannot tell when the broker has not sent its marker back in time, rather than finding none", async () => {
    // A broker that takes the look's CONNECT, SUBSCRIBE and marker but has sent nothing back yet:
    // busy, with the presences still to come.
    let marked: () => void = () => {};
    const markerIn = new Promise<void>((r) => {
      marked = r;
    });
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      const send = (p: object) => socket.write(mqttPacket.generate(p as mqttPacket.Packet));
      parser.on("packet", (p) => {
        if (p.cmd === "connect") send({ cmd: "connack", returnCode: 0, sessionPresent: false });
        else if (p.cmd === "subscribe")
          send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map(() => 1) });
        else if (p.cmd === "publish") {
          send({ cmd: "puback", messageId: p.messageId });
          marked();
        }
      });
      socket.on("data", (d) => parser.parse(d));
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    fx.track(server, (x) => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => x.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const sched = new FakeScheduler();
    const look = findTwinsServices(`mqtt://127.0.0.1:${port}`, "tf", { timeoutMs: 1000, scheduler: sched });
    const outcome = look.then(
      (found) => found,
      (e: unknown) => e,
    );
    await markerIn;
    sched.advance(1000);
    const e = await outcome;
    expect(e).toBeInstanceOf(PresenceLookUnfinished);
    expect((e as Error).message).toBe(
      `the broker at mqtt://127.0.0.1:${port} did not answer the look for twins services within 1.0 s (its marker never came back): whether one is on it is unknown`,
    );
    expect((e as PresenceLookUnfinished).unreached).toBeUndefined();
  });

  it("says the broker was never reached when the look's time is up before its connection was made", async () => {
    // The look's time runs out (on its scheduler) before its TCP connection is made, as it does when
    // nothing answers at the broker's address (a host down, a firewall dropping the SYNs). It was
    // told as a broker too busy to send the look's marker back.
    const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
    const sched = new FakeScheduler();
    const look = findTwinsServices(b.url, "tf", { timeoutMs: 1000, scheduler: sched });
    sched.advance(1000); // before the event loop could complete the connection
    const e = await look.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(PresenceLookUnfinished);
    const where = b.url.replace("mqtt://", "");
    expect((e as Error).message).toBe(
      `cannot reach the broker at ${b.url}: could not connect to ${where} within 1 s (nothing answered: the host is down or unreachable, or a firewall drops the connection): whether a twins service is on it is unknown`,
    );
    expect((e as PresenceLookUnfinished).unreached?.reason).toBe("timeout");
  });
});
