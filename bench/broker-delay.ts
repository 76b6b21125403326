/**
 * The embedded broker's own forwarding delay: how long after a PUBLISH reaches it the subscriber's
 * copy leaves it, one message at a time (no queueing). Two raw TCP clients on loopback, packets
 * made once; each sample is the time from the publisher's write to the subscriber's read. The same
 * is measured through a null forwarder (a TCP server that copies the publisher's bytes to the
 * subscriber's socket), and the difference of the medians is the broker's delay — the figure
 * `network.brokerForwardMs` of the device profiles, which the in-memory broker of a virtual run
 * applies.
 *   npm run bench -- broker-delay [--messages 3000]
 */
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { generate } from "mqtt-packet";
import { startBroker } from "../broker/index.js";
import { numArg, record } from "./record.js";

const TOPIC = "tf/report/n1";
/** A follower's report as a node publishes it (QoS 0). */
const PUBLISH = generate({
  cmd: "publish",
  topic: TOPIC,
  payload: "R1 1 42 n1",
  qos: 0,
  retain: false,
  dup: false,
});

async function open(port: number, clientId?: string): Promise<Socket> {
  const s = connect({ host: "127.0.0.1", port, noDelay: true });
  await once(s, "connect");
  if (clientId !== undefined) {
    s.write(
      generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: true,
        clientId,
        keepalive: 60,
      }),
    );
    await once(s, "data"); // CONNACK
  }
  return s;
}

/** Write → read times (ms) of `n` messages, one at a time, after `warmup` unrecorded ones. */
async function samples(pub: Socket, sub: Socket, n: number, warmup: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    const t0 = performance.now();
    const got = once(sub, "data");
    pub.write(PUBLISH);
    await got;
    if (i >= warmup) out.push(performance.now() - t0);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? Number.NaN;

async function throughAedes(n: number): Promise<number[]> {
  const broker = await startBroker({ host: "127.0.0.1", port: 0 });
  try {
    const sub = await open(broker.port, "sub");
    sub.write(generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: TOPIC, qos: 0 }] }));
    await once(sub, "data"); // SUBACK
    const pub = await open(broker.port, "pub");
    const xs = await samples(pub, sub, n, 500);
    pub.destroy();
    sub.destroy();
    return xs;
  } finally {
    await broker.close();
  }
}

async function throughNull(n: number): Promise<number[]> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ noDelay: true }, (s) => {
    sockets.push(s);
    if (sockets.length === 2) sockets[0]?.on("data", (b) => sockets[1]?.write(b));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const pub = await open(port);
  const sub = await open(port);
  while (sockets.length < 2) await new Promise((r) => setImmediate(r));
  const xs = await samples(pub, sub, n, 500);
  pub.destroy();
  sub.destroy();
  for (const s of sockets) s.destroy();
  server.close();
  return xs;
}

export async function brokerDelay(argv: string[]): Promise<void> {
  const n = numArg(argv, "--messages", 3000);
  const aedes = await throughAedes(n);
  const nul = await throughNull(n);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const summary = (xs: number[]) => ({
    p10: round(pct(xs, 10)),
    p50: round(median(xs)),
    p90: round(pct(xs, 90)),
  });
  record("broker-delay", {
    messages: n,
    aedesMs: summary(aedes),
    nullForwarderMs: summary(nul),
    brokerForwardMs: round(median(aedes) - median(nul)),
  });
}
