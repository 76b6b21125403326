/**
 * A broker host opened before each test of a file and a tool client of its own on it (what a site's
 * script clearing retained messages would use), both closed after each test.
 */
import mqtt from "mqtt";
import { pino } from "pino";
import { afterEach, beforeEach } from "vitest";
import { RealScheduler } from "../../node/scheduler.js";
import { type BrokerHost, openBrokerHost } from "../broker-host.js";

/** Call at a test file's top level: the returned `broker` and `tool` are fresh in each test. */
export function brokerAndTool(): { readonly broker: BrokerHost; readonly tool: mqtt.MqttClient } {
  let broker: BrokerHost | undefined;
  let tool: mqtt.MqttClient | undefined;
  beforeEach(async () => {
    broker = await openBrokerHost({ logger: pino({ level: "silent" }), scheduler: new RealScheduler() });
    tool = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  });
  afterEach(async () => {
    await tool?.endAsync(true);
    await broker?.close();
  });
  return {
    get broker() {
      if (broker === undefined) throw new Error("the broker is opened before each test");
      return broker;
    },
    get tool() {
      if (tool === undefined) throw new Error("the tool is connected before each test");
      return tool;
    },
  };
}
