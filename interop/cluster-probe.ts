/**
 * What a node's session costs on the NATS cluster, per consumer setting: `node --import tsx
 * interop/cluster-probe.ts [--clients N]` starts a 3-member cluster with single-copy in-memory
 * consumers (the harness default) and then one with replicated file consumers (NATS's default),
 * and on each measures: the time from CONNECT to CONNACK and from a node's SUBSCRIBE (five QoS 1
 * topics and `query` at QoS 0) to its SUBACK, for N clients spread over the members; and QoS 1
 * publish-to-delivery latency from member 1 to member 2 (200 messages, one at a time). Prints one
 * JSON line per setting. The figures in docs/cluster.md come from it.
 */
import mqtt from "mqtt";
import { startCluster } from "./cluster.js";

interface Setting {
  readonly name: string;
  readonly consumerReplicas: number;
  readonly consumerMemoryStorage: boolean;
}

const SETTINGS: readonly Setting[] = [
  { name: "consumer_replicas 1, memory", consumerReplicas: 1, consumerMemoryStorage: true },
  { name: "consumer_replicas 3, file", consumerReplicas: 3, consumerMemoryStorage: false },
];

function summary(xs: readonly number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? Number.NaN;
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(s.at(-1) ?? Number.NaN) };
}

async function probe(setting: Setting, clients: number): Promise<Record<string, unknown>> {
  const cluster = await startCluster({
    consumerReplicas: setting.consumerReplicas,
    consumerMemoryStorage: setting.consumerMemoryStorage,
  });
  try {
    const url = (i: number) => cluster.urls[i % cluster.urls.length] as string;
    // The first MQTT client creates the MQTT streams: timed apart from the rest.
    let t = performance.now();
    const warm = await mqtt.connectAsync(url(0), { protocolVersion: 4, reconnectPeriod: 0 });
    const firstConnectMs = performance.now() - t;
    await warm.endAsync();
    const connack: number[] = [];
    const suback: number[] = [];
    for (let i = 0; i < clients; i++) {
      const id = `probe-${i}`;
      t = performance.now();
      const c = await mqtt.connectAsync(url(i), {
        protocolVersion: 4,
        reconnectPeriod: 0,
        clientId: `tf-${id}`,
      });
      connack.push(performance.now() - t);
      t = performance.now();
      await c.subscribeAsync({
        [`tf/config/${id}`]: { qos: 1 },
        [`tf/report/${id}`]: { qos: 1 },
        [`tf/state/${id}`]: { qos: 1 },
        [`tf/subscribe/${id}`]: { qos: 1 },
        [`tf/unsubscribe/${id}`]: { qos: 1 },
        "tf/query": { qos: 0 },
      });
      suback.push(performance.now() - t);
      await c.endAsync();
    }
    const sub = await mqtt.connectAsync(url(1), { protocolVersion: 4, reconnectPeriod: 0 });
    const pub = await mqtt.connectAsync(url(0), { protocolVersion: 4, reconnectPeriod: 0 });
    await sub.subscribeAsync("probe/q1", { qos: 1 });
    const delivery: number[] = [];
    for (let i = 0; i < 200; i++) {
      const got = new Promise<void>((resolve) => sub.once("message", () => resolve()));
      t = performance.now();
      await pub.publishAsync("probe/q1", String(i), { qos: 1 });
      await got;
      delivery.push(performance.now() - t);
    }
    await sub.endAsync();
    await pub.endAsync();
    return {
      setting: setting.name,
      clients,
      firstConnectMs: Math.round(firstConnectMs),
      connackMs: summary(connack),
      subackMs: summary(suback),
      qos1DeliveryAcrossMembersMs: summary(delivery),
    };
  } finally {
    await cluster.close();
  }
}

function clientsFlag(argv: readonly string[]): number {
  if (argv.length === 0) return 30;
  if (argv.length === 2 && argv[0] === "--clients" && /^[1-9][0-9]*$/.test(argv[1] ?? ""))
    return Number(argv[1]);
  throw new Error(`usage: cluster-probe.ts [--clients N] (got: ${argv.join(" ")})`);
}

async function main(): Promise<void> {
  let clients: number;
  try {
    clients = clientsFlag(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  for (const s of SETTINGS) console.log(JSON.stringify(await probe(s, clients)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
