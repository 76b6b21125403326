/**
 * A broker at an IPv6 address over WebSocket (`ws://[::1]:8080`): MQTT.js takes the host out of the
 * URL as `::1` and built `ws://::1:8080/`, so `twinfleet nodes --broker ws://[::1]:8080` (and the
 * twins, the monitor) ended with `Invalid URL: ws://::1:8080/`. The last case connects a service to
 * a broker's WebSocket listener on ::1 (skipped on a host without IPv6 loopback).
 */
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { bracketedWsUrl } from "../connection.js";
import { startTwins } from "../service.js";
import { memoryStore } from "../store.js";

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((a) => a.internal && a.address === "::1"),
);

describe("a WebSocket broker at an IPv6 address", () => {
  it("puts the brackets back in the URL MQTT.js builds, and leaves other URLs alone", () => {
    expect(bracketedWsUrl("ws://::1:8080/", { hostname: "::1" })).toBe("ws://[::1]:8080/");
    expect(bracketedWsUrl("wss://fd00::2:443/mqtt", { hostname: "fd00::2" })).toBe(
      "wss://[fd00::2]:443/mqtt",
    );
    expect(bracketedWsUrl("ws://lab-pi:8080/", { hostname: "lab-pi" })).toBe("ws://lab-pi:8080/");
    expect(bracketedWsUrl("ws://[::1]:8080/", { hostname: "[::1]" })).toBe("ws://[::1]:8080/");
  });

  it.skipIf(!hasIpv6Loopback)("connects the twins service over ws://[::1]", async () => {
    const broker = await startBroker({ host: "::1", port: 0, wsPort: 0 });
    try {
      const twins = await startTwins({ url: `ws://[::1]:${broker.wsPort}`, store: memoryStore() });
      await twins.close();
    } finally {
      await broker.close();
    }
  });
});
