// A connect that times out says how far it got: a host name not resolved, an address that never
// answered (no TCP connection), or a broker that did not answer the CONNECT. All three used to read
// "no answer (CONNACK)", the broker's fault, when the broker had never been reached.
import dns from "node:dns";
import { EventEmitter } from "node:events";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { followConnectPhase } from "../connect-phase.js";
import { connectTimeoutError } from "../connection.js";
import { startTwins } from "../index.js";

/** A socket's part the phase reads: whether it is connecting, and its `lookup` event. */
class FakeSocket extends EventEmitter {
  connecting = true;
}

class FakeClient extends EventEmitter {
  constructor(public stream: unknown) {
    super();
  }
}

describe("the phase of a connection attempt", () => {
  it("to an address: connecting until the socket connects, destroyed or not", () => {
    const s = new FakeSocket();
    const phase = followConnectPhase(new FakeClient(s), "mqtt://10.0.0.5:1883");
    expect(phase()).toEqual({ at: "connecting", address: "10.0.0.5:1883" });
    // MQTT.js destroys the stream at its timeout, before it says so: not connecting any more.
    s.connecting = false;
    expect(phase()).toEqual({ at: "connecting", address: "10.0.0.5:1883" });
    s.emit("connect");
    expect(phase()).toEqual({ at: "connected" });
    const v6 = followConnectPhase(new FakeClient(new FakeSocket()), "mqtts://[fd00::5]");
    expect(v6()).toEqual({ at: "connecting", address: "[fd00::5]:8883" });
  });

  it("to a name: resolving until its lookup answers, then connecting to the address, on each reconnect", async () => {
    const first = new FakeSocket();
    const client = new FakeClient(first);
    const phase = followConnectPhase(client, "mqtt://broker.test:1884");
    expect(phase()).toEqual({ at: "resolving", host: "broker.test" });
    first.emit("lookup", null, "10.0.0.5", 4, "broker.test");
    expect(phase()).toEqual({ at: "connecting", address: "broker.test:1884 (10.0.0.5)" });
    // MQTT.js opens the next stream once it has emitted `reconnect`.
    client.emit("reconnect");
    client.stream = new FakeSocket();
    await Promise.resolve();
    expect(phase()).toEqual({ at: "resolving", host: "broker.test" });
  });

  it("reads a real socket whose name's lookup never answers as resolving", () => {
    const s = new Socket();
    s.on("error", () => {});
    s.connect({ host: "broker.test", port: 1883, lookup: () => {} });
    try {
      expect(followConnectPhase(new FakeClient(s), "mqtt://broker.test")()).toEqual({
        at: "resolving",
        host: "broker.test",
      });
    } finally {
      s.destroy();
    }
  });

  it("does not know for a stream that is no socket (a WebSocket) or one it did not follow", () => {
    expect(followConnectPhase(new FakeClient({}), "ws://broker.test:8080/mqtt")()).toBeUndefined();
    const client = new FakeClient(new FakeSocket());
    const phase = followConnectPhase(client, "mqtt://broker.test");
    client.stream = new FakeSocket();
    expect(phase()).toBeUndefined();
  });
});

describe("a connect timeout", () => {
  const url = "mqtt://u:secret@broker.test:1883";
  it("says which step did not happen in time", () => {
    expect(connectTimeoutError(url, 10_000, { at: "resolving", host: "broker.test" }).message).toBe(
      "cannot reach the broker at mqtt://broker.test:1883: could not resolve broker.test within 10 s (the resolver did not answer)",
    );
    const connecting = connectTimeoutError(url, 10_000, {
      at: "connecting",
      address: "broker.test:1883 (10.0.0.5)",
    });
    expect(connecting.message).toBe(
      "cannot reach the broker at mqtt://broker.test:1883: could not connect to broker.test:1883 (10.0.0.5) within 10 s (nothing answered: the host is down or unreachable, or a firewall drops the connection)",
    );
    expect(connecting.transient).toBe(true);
    for (const phase of [{ at: "connected" } as const, undefined]) {
      expect(connectTimeoutError(url, 10_000, phase).message).toBe(
        "cannot reach the broker at mqtt://broker.test:1883: no answer (CONNACK) within 10000 ms",
      );
    }
  });
});

describe("the twins service's connect to a broker whose name never resolves", () => {
  it("says the name was not resolved in time, not that the broker did not answer", async () => {
    // Node's sockets look a name up through dns.lookup, read at each connect: one that never answers.
    const real = dns.lookup;
    const stalled = ((host: string, ...rest: unknown[]) => {
      if (host !== "stall.test") (real as (...a: unknown[]) => unknown)(host, ...rest);
    }) as typeof dns.lookup;
    dns.lookup = stalled;
    try {
      const started = startTwins({
        url: "mqtt://stall.test:1883",
        scheduler: new FakeScheduler(), // never moves: the MQTT client's own timer fires
        connectTimeoutMs: 100,
        reconnectPeriodMs: 0,
      });
      await expect(started).rejects.toMatchObject({
        reason: "timeout",
        message:
          "cannot reach the broker at mqtt://stall.test:1883: could not resolve stall.test within 0.1 s (the resolver did not answer)",
      });
    } finally {
      dns.lookup = real;
    }
  });
});
