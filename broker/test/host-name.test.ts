/**
 * `--host` given as a name: every address it resolves to is bound, on the same port, by every
 * listener. A name that named ::1 and 127.0.0.1 (`localhost` on most systems) was bound at its first
 * address only, and `mqtt://127.0.0.1:1883` was refused by a broker that said `listening on
 * localhost:1883`. A name that does not resolve is one line naming --host and the name, before
 * anything opens. The lookup is injected (two IPv4 loopback addresses, so no IPv6 is needed).
 */
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { bindAddresses } from "../listen.js";
import { startBroker } from "../server.js";
import { client, closeAll } from "./helpers.js";

const twoLoopbacks = async () => ["127.0.0.1", "127.0.0.2", "127.0.0.1"];

function reaches(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

describe("--host as a name", () => {
  it("binds each address the name resolves to, for MQTT and WebSocket alike, and serves MQTT at each", async () => {
    const broker = await startBroker({ host: "broker.test", port: 0, wsPort: 0, lookup: twoLoopbacks });
    try {
      expect(broker.addresses).toEqual(["127.0.0.1", "127.0.0.2"]);
      expect(broker.url).toBe(`mqtt://broker.test:${broker.port}`);
      const a = await client(`mqtt://127.0.0.1:${broker.port}`, { clientId: "a" });
      const b = await client(`mqtt://127.0.0.2:${broker.port}`, { clientId: "b" });
      expect([a.connected, b.connected]).toEqual([true, true]);
      await closeAll(a, b);
      const ws = broker.wsPort ?? 0;
      expect([await reaches("127.0.0.1", ws), await reaches("127.0.0.2", ws)]).toEqual([true, true]);
    } finally {
      await broker.close();
    }
    // Every listener is closed with the broker, the extra ones too.
    expect(await reaches("127.0.0.2", broker.port)).toBe(false);
  });

  it("says which name did not resolve, naming --host, and opens nothing", async () => {
    const notFound = Object.assign(new Error("getaddrinfo ENOTFOUND broker.invalid"), { code: "ENOTFOUND" });
    await expect(
      startBroker({ host: "broker.invalid", port: 0, lookup: () => Promise.reject(notFound) }),
    ).rejects.toThrow(/^--host: cannot listen on broker\.invalid: host not found \(ENOTFOUND\)$/);
    const noAnswer = Object.assign(new Error("getaddrinfo EAI_AGAIN broker.lan"), { code: "EAI_AGAIN" });
    await expect(bindAddresses("broker.lan", () => Promise.reject(noAnswer))).rejects.toThrow(
      "--host: cannot listen on broker.lan: host name lookup failed (no answer from the resolver; try again, or give an address) (EAI_AGAIN)",
    );
  });

  it("binds an address as it is, without a lookup", async () => {
    const never = () => Promise.reject(new Error("looked up"));
    expect(await bindAddresses("0.0.0.0", never)).toEqual(["0.0.0.0"]);
    expect(await bindAddresses("::1", never)).toEqual(["::1"]);
  });
});
