// The twins service on a Mosquitto whose client queue is too short for the fleet's retained
// messages: Mosquitto drops what does not fit (its log alone said so) and counts it in
// $SYS/broker/publish/messages/dropped. Measured with its defaults (20 in flight, 1,000 queued): a
// service starting on 600 nodes' retained messages never got 160 of their statuses, and said
// nothing. Here the same with the limits made small.
import mqtt from "mqtt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Fixtures } from "../../twins/test/helpers.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { until } from "./helpers.js";

let broker: Mosquitto;
const fx = new Fixtures();
beforeAll(async () => {
  broker = await startMosquitto({
    conf: ["max_inflight_messages 1", "max_queued_messages 10", "sys_interval 1"],
  });
  fx.url = broker.url;
});
afterEach(() => fx.close());
afterAll(async () => {
  await broker?.close();
});

describe("a Mosquitto client queue too short for the fleet", () => {
  it("the twins service warns that the broker dropped messages, naming itself and max_queued_messages", async () => {
    // 60 nodes' retained config, status and report: 180 messages replayed at the service's start.
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    for (let i = 0; i < 60; i++) {
      const id = `q-${i}`;
      await c.publishAsync(`tf/config/${id}`, `C1 1 q-${(i + 1) % 60}`, { qos: 1, retain: true });
      await c.publishAsync(`tf/status/${id}`, "T1 0", { qos: 1, retain: true });
      await c.publishAsync(`tf/report/${id}`, `R1 1 ${i + 1} ${id}`, { qos: 1, retain: true });
    }
    await c.endAsync();
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
    // What the warning is about: the service's view misses some of the 60 nodes' messages.
    const statuses = t.list().filter((n) => n.presence === "offline").length;
    expect(statuses).toBeLessThan(60);
  }, 30_000);
});
