/**
 * The service's broker connection sends each packet as it is written (TCP_NODELAY), on its first
 * connection and after a reconnect. With Nagle's algorithm on, every awaited QoS 1 publish written
 * after another packet waited for the broker's delayed ACK (40 ms on Linux): retiring a node (five
 * awaited publishes) took ~130 ms through `DELETE /api/nodes/ID`, ~10 ms with it off.
 */
import { Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { changed, Fixtures, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(async () => {
  await fx.close();
  vi.restoreAllMocks();
});

describe("the broker connection", () => {
  it("turns Nagle's algorithm off on every socket it opens to the broker, a reconnect's included", async () => {
    const b = await fx.broker();
    const toBroker = new Set<Socket>();
    const setNoDelay = Socket.prototype.setNoDelay;
    vi.spyOn(Socket.prototype, "setNoDelay").mockImplementation(function (this: Socket, on?: boolean) {
      if (on !== false && this.remotePort === b.port) toBroker.add(this);
      changed();
      return setNoDelay.call(this, on);
    });
    const t = await fx.twins({ reconnectPeriodMs: 50 });
    await until(() => toBroker.size === 1, "the first socket without Nagle");
    const first = [...toBroker][0] as Socket;
    b.kill(t.clientId);
    await until(() => toBroker.size === 2, "the reconnect's socket without Nagle");
    expect(first.destroyed).toBe(true);
  });
});
