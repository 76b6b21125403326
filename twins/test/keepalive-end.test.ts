/**
 * A connection its keepalive ended (a path cut with the connection up) is a loss, not a reconnect
 * that failed: MQTT.js tells it as an error (`Keepalive timeout`) after it dropped the connection,
 * while the service counts the outage's reconnect failures. It was told as the reconnects' cause
 * (`cannot connect to the broker at …: Keepalive timeout`) before any attempt was made, and /healthz
 * and refused commands gave it as such until the first attempt timed out 10 s later.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { FakeScheduler } from "../../node/scheduler.js";
import { isKeepaliveEnd, ReconnectFailures } from "../reconnect-failures.js";
import { loggedLines } from "./own-broker.js";

const url = "mqtt://127.0.0.2:1883";

function failures() {
  const { logger, lines } = loggedLines("debug");
  const f = new ReconnectFailures({
    logger,
    url,
    connectTimeoutMs: 10_000,
    password: undefined,
    reconnectPeriodMs: 1000,
    stalls: undefined,
    scheduler: new FakeScheduler(0),
  });
  return { f, lines };
}

it("does not take the keepalive's end of the connection for a failed reconnect", () => {
  const { f, lines } = failures();
  f.failed(new Error("Keepalive timeout"), undefined, 1000);
  expect(f.cause).toBeUndefined();
  expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  // The first attempt that fails is told, as the outage's cause.
  f.failed(new Error("connack timeout"), { at: "connecting", address: "127.0.0.2:1883" }, 1000);
  expect(f.cause).toBe(
    `cannot reach the broker at ${url}: could not connect to 127.0.0.2:1883 within 10 s (nothing answered: the host is down or unreachable, or a firewall drops the connection)`,
  );
  expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual([
    `twins: ${f.cause}; trying again every 1 s until it answers`,
  ]);
});

it("knows MQTT.js's keepalive error, as the installed MQTT.js words it, and nothing else by it", () => {
  const mqttDir = dirname(createRequire(import.meta.url).resolve("mqtt/package.json"));
  const client = readFileSync(join(mqttDir, "build", "lib", "client.js"), "utf8");
  const said = /onKeepaliveTimeout\(\) \{[^}]*new Error\('([^']+)'\)/.exec(client)?.[1];
  expect(said).toBeDefined();
  expect(isKeepaliveEnd(new Error(said ?? ""))).toBe(true);
  expect(isKeepaliveEnd(new Error("Keepalive timeout"))).toBe(true);
  expect(isKeepaliveEnd(new Error("connack timeout"))).toBe(false);
  expect(isKeepaliveEnd(new Error("connect ECONNREFUSED 127.0.0.1:1883"))).toBe(false);
});
