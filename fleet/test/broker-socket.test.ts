/**
 * Where a run's nodes open their TCP connections (`brokerSocket`): the URL's host and port, with an
 * IPv6 address unbracketed. `sim --broker mqtt://[::1]:1883` gave every node the host `[::1]`, which
 * was looked up as a name (ENOTFOUND): not one node registered, while the run's own client, which
 * MQTT.js connects, reached the broker. The last case opens a node's wire to a listener on ::1
 * (skipped on a host without IPv6 loopback).
 */
import { createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { tcpWire } from "../../node/wire.js";
import { brokerSocket } from "../broker-address.js";

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) =>
  (list ?? []).some((a) => a.internal && a.address === "::1"),
);

describe("brokerSocket", () => {
  it("takes an IPv6 address out of its brackets", () => {
    expect(brokerSocket("mqtt://[::1]:1883")).toEqual({ host: "::1", port: 1883 });
    expect(brokerSocket("mqtt://[fd00::2]:46089")).toEqual({ host: "fd00::2", port: 46089 });
  });

  it("keeps a name or an IPv4 address as it is, and 1883 when the URL gives no port", () => {
    expect(brokerSocket("mqtt://lab-pi.lan:1884")).toEqual({ host: "lab-pi.lan", port: 1884 });
    expect(brokerSocket("mqtt://localhost")).toEqual({ host: "localhost", port: 1883 });
    expect(brokerSocket("mqtt://10.0.0.5:1883")).toEqual({ host: "10.0.0.5", port: 1883 });
  });

  it.skipIf(!hasIpv6Loopback)("gives a node's wire a host it can connect to on ::1", async () => {
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, "::1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const at = brokerSocket(`mqtt://[::1]:${port}`);
      const refused = await new Promise<boolean | undefined>((resolve) => {
        tcpWire(at.host, at.port)({ packet: () => {}, closed: (r) => resolve(r) });
      });
      // Closed by the server after connecting, not refused before (ENOTFOUND for `[::1]`).
      expect(refused).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
