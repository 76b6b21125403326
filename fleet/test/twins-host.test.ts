/**
 * The twins host forwards a service's event only while someone listens to it on the host, and
 * carries its listeners over a kill and restart; a run's registrations stop listening to updates
 * once every fleet node has registered.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { NodeId } from "../../protocol/index.js";
import { NodeTimeline } from "../../sim/recovery.js";
import type { Twin, Twins, TwinsEvents } from "../../twins/index.js";
import { type RegistrationSource, Registrations } from "../registrations.js";
import { TwinsHost } from "../twins-host.js";

/** A service that does nothing but emit what a test tells it to. */
function fakeTwins(): Twins {
  const e = new EventEmitter<TwinsEvents>();
  return Object.assign(e, {
    prefix: "tf",
    clientId: "fake",
    passive: false,
    kill: async () => {},
    close: async () => {},
  }) as unknown as Twins;
}

const twin = (id: string): Twin => ({ id }) as unknown as Twin;

describe("the twins host", () => {
  it("forwards an event only while the host has a listener for it, across a restart", async () => {
    const services: Twins[] = [];
    const host = await TwinsHost.start(async () => {
      const t = fakeTwins();
      services.push(t);
      return t;
    });
    const first = services[0] as Twins;
    expect(first.listenerCount("twin-updated")).toBe(0);
    const seen: string[] = [];
    const f = (t: Twin) => seen.push(t.id);
    host.on("twin-updated", f);
    expect(first.listenerCount("twin-updated")).toBe(1);
    host.on("twin-updated", () => {});
    expect(first.listenerCount("twin-updated")).toBe(1);
    first.emit("twin-updated", twin("a"), "report");
    expect(seen).toEqual(["a"]);

    await host.kill();
    expect(first.listenerCount("twin-updated")).toBe(0);
    await host.restart();
    const second = services[1] as Twins;
    second.emit("twin-updated", twin("b"), "report");
    expect(seen).toEqual(["a", "b"]);

    host.removeAllListeners("twin-updated");
    expect(second.listenerCount("twin-updated")).toBe(0);
    second.emit("twin-updated", twin("c"), "report");
    expect(seen).toEqual(["a", "b"]);
    await host.close();
  });

  it("forwards the broker connection's news: the view shows a lost connection from it", async () => {
    let service: Twins | undefined;
    const host = await TwinsHost.start(async () => {
      service = fakeTwins();
      return service;
    });
    const told: boolean[] = [];
    host.on("broker", (up) => told.push(up));
    service?.emit("broker", false);
    service?.emit("broker", true);
    expect(told).toEqual([false, true]);
    await host.close();
  });

  it("answers a view's command once the service answering it has stored the change (Twins.written)", async () => {
    let release = () => {};
    const host = await TwinsHost.start(async () =>
      Object.assign(fakeTwins(), {
        written: () =>
          new Promise<void>((resolve) => {
            release = resolve;
          }),
      }),
    );
    let stored = false;
    const waiting = host.written().then(() => {
      stored = true;
    });
    await Promise.resolve();
    expect(stored).toBe(false);
    release();
    await waiting;
    expect(stored).toBe(true);
    await host.kill();
    await expect(host.written()).resolves.toBeUndefined();
    await host.close();
  });

  it("forwards what a restarted service emits while it is still connecting", async () => {
    // A new service reads the retained messages and its query's answers before its start resolves:
    // those registrations must reach the run and the console like any later one.
    const services: Twins[] = [];
    const host = await TwinsHost.start(async (created) => {
      const t = fakeTwins();
      services.push(t);
      created(t);
      if (services.length > 1) t.emit("twin-registered", twin("early"), false, false);
      await Promise.resolve();
      return t;
    });
    const seen: string[] = [];
    host.on("twin-registered", (t: Twin) => seen.push(t.id));
    await host.kill();
    await host.restart();
    expect(seen).toEqual(["early"]);
    (services[1] as Twins).emit("twin-registered", twin("later"), false, false);
    expect(seen).toEqual(["early", "later"]);
    await host.close();
  });

  it("starts one service when two restarts overlap, and forwards from that one", async () => {
    const services: Twins[] = [];
    const host = await TwinsHost.start(async () => {
      const t = fakeTwins();
      services.push(t);
      await Promise.resolve();
      return t;
    });
    const seen: string[] = [];
    host.on("twin-updated", (t: Twin) => seen.push(t.id));
    await host.kill();
    await Promise.all([host.restart(), host.restart()]);
    expect(services.length).toBe(2);
    const second = services[1] as Twins;
    expect(second.listenerCount("twin-updated")).toBe(1);
    second.emit("twin-updated", twin("b"), "report");
    expect(seen).toEqual(["b"]);
    await host.close();
  });
});

describe("registrations", () => {
  it("stop listening to updates once every fleet node has registered", () => {
    const updates = new EventEmitter<{ updated: [NodeId] }>();
    const registered = new Set<string>();
    const source: RegistrationSource = {
      up: true,
      onRegistered: () => {},
      onUpdated: (fn) => {
        updates.on("updated", fn);
        return () => updates.off("updated", fn);
      },
      onOffline: () => {},
      isRegistered: (id) => registered.has(id),
      unreported: () => new Set(),
      view: () => ({ known: 0, online: 0, desiredAsPaired: 0, pairingConfirmed: 0 }),
    };
    let now = 0;
    const a = NodeId("a");
    const b = NodeId("b");
    const regs = new Registrations([a, b], source, new NodeTimeline(), () => now);
    now = 5;
    registered.add("a");
    updates.emit("updated", a);
    updates.emit("updated", b);
    expect(updates.listenerCount("updated")).toBe(1);
    now = 7;
    registered.add("b");
    updates.emit("updated", b);
    expect([...regs.first]).toEqual([
      ["a", 5],
      ["b", 7],
    ]);
    expect(updates.listenerCount("updated")).toBe(0);
  });
});
