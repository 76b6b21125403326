// The twins service on a Mosquitto client queue: Mosquitto drops what does not fit (its log alone
// says so) and counts it in $SYS/broker/publish/messages/dropped. With its defaults (20 in flight,
// 1,000 queued) a service reading the nodes' topics at QoS 1 and starting on 3,000 nodes' retained
// state got 1,020 of their statuses and showed 1,980 nodes `unknown`, and said nothing; at QoS 0,
// which Mosquitto sends whole, it shows every node. A queue short even for QoS 0
// (`max_queued_bytes`) still drops, and the service warns.
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Fixtures } from "../../twins/test/helpers.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

/** `n` nodes' retained config, status and report, at QoS 1 as the service and the wills write them. */
async function fleetLeft(url: string, n: number): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  for (let from = 0; from < n; from += 250) {
    const sent: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(n, from + 250); i++) {
      const id = `q-${i}`;
      sent.push(c.publishAsync(`tf/config/${id}`, `C1 1 q-${(i + 1) % n}`, { qos: 1, retain: true }));
      sent.push(c.publishAsync(`tf/status/${id}`, "T1 0", { qos: 1, retain: true }));
      sent.push(c.publishAsync(`tf/report/${id}`, `R1 1 ${i + 1} ${id}`, { qos: 1, retain: true }));
    }
    await Promise.all(sent);
  }
  await c.endAsync();
}

describe("a Mosquitto with its default client queue", () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
    await fleetLeft(broker.url, 1500);
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
  });

  it("the twins service starting on 1,500 nodes' retained state sees every node's status", async () => {
    // 4,500 messages at once: at QoS 1, 20 in flight + 1,000 queued came, and the statuses (sent
    // after the configs) mostly did not: those nodes stayed `unknown`.
    fx.url = broker.url;
    const t = await fx.twins();
    const offline = () => t.list().filter((n) => n.presence === "offline").length;
    await until(() => offline() === 1500, "every node offline", 20_000).catch(() => undefined);
    expect(offline(), `${t.list().length} listed`).toBe(1500);
    expect(broker.log()).not.toContain(`Outgoing messages are being dropped for client ${t.clientId}`);
  }, 30_000);
});

describe("a Mosquitto client queue too short for the fleet even at QoS 0", () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto({ conf: ["max_queued_bytes 200", "sys_interval 1"] });
    await fleetLeft(broker.url, 300);
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
  });

  it("the twins service warns that the broker dropped messages, naming itself and max_queued_messages", async () => {
    fx.url = broker.url;
    // The broker's count is published every second: the one before the service's start is its base.
    await new Promise((r) => setTimeout(r, 1500));
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
    const t = await fx.twins({ logger });
    await until(() => lines.some((l) => l.includes("messages/dropped")), "the warning", 10_000);
    const line = lines.find((l) => l.includes("messages/dropped")) ?? "";
    expect(line).toMatch(
      /^twins: the broker at mqtt:\/\/127\.0\.0\.1:\d+ dropped \d+ messages on their way to its clients/,
    );
    expect(line).toContain(`Outgoing messages are being dropped for client ${t.clientId}`);
    expect(broker.log()).toContain(`Outgoing messages are being dropped for client ${t.clientId}`);
    // What the warning is about: the service's view misses some of the 300 nodes' messages.
    const statuses = t.list().filter((n) => n.presence === "offline").length;
    expect(statuses).toBeLessThan(300);
  }, 30_000);
});
