/**
 * The live view over a run's twins service that is killed and started again (the twins-restart
 * fault): the new service counts its twins' versions from 0, and the versions the view shows (the
 * web page's and the API's, each `ETag`) go on from above the highest it showed before. A broker's
 * restart told at the first service's first connection reaches the view's log through the host.
 */
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { TwinsHost } from "../../fleet/twins-host.js";
import { FakeScheduler } from "../../node/scheduler.js";
import { NodeId } from "../../protocol/index.js";
import type { Twin, Twins, TwinsEvents } from "../../twins/index.js";
import { ShownVersions } from "../shown-versions.js";
import { TwinsSource } from "../twins-source.js";

const a = NodeId("a");

function twin(version: number, on: boolean): Twin {
  return {
    id: a,
    kind: "sim",
    presence: "online",
    reported: { on, stamp: { counter: version, origin: a } },
    desired: { sources: [], configVersion: 0 },
    follows: [],
    followers: [],
    pairing: "confirmed",
    pairingInSync: true,
    version,
  } as Twin;
}

/** A service holding one twin, `a`, that a test changes and announces. */
function fakeService(): Twins & { a: Twin } {
  const e = new EventEmitter<TwinsEvents>();
  const s = Object.assign(e, {
    prefix: "tf",
    clientId: "fake",
    passive: false,
    a: twin(0, false),
    list: () => [s.a],
    get: (id: string) => (id === a ? s.a : undefined),
    convergence: () => ({ fraction: 1, inSync: 0, known: 0, followers: [] }),
    history: () => [],
    badInputOf: () => 0,
    kill: async () => {},
    close: async () => {},
  });
  return s as unknown as Twins & { a: Twin };
}

describe("a view over a twins service started again", () => {
  it("shows versions that go on from above those shown before, not from the new service's 0", async () => {
    const services: (Twins & { a: Twin })[] = [];
    const host = await TwinsHost.start(async (created) => {
      const t = fakeService();
      services.push(t);
      created(t);
      return t;
    });
    const view = new TwinsSource(host, "run", new FakeScheduler(0));
    const first = services[0] as Twins & { a: Twin };
    first.a = twin(25, true);
    first.emit("twin-updated", first.a, "report");
    expect(view.node(a)).toMatchObject({ on: true, version: 25 });

    await host.kill();
    await host.restart();
    const second = services[1] as Twins & { a: Twin };
    second.a = twin(3, false);
    second.emit("twin-updated", second.a, "report");
    const after = view.node(a);
    expect(after?.on).toBe(false);
    // The page keeps a node's newest version: a lower one would be dropped as old news.
    expect(after?.version).toBeGreaterThan(25);
    expect(view.detail(a)?.node.version).toBe(after?.version);
    second.a = twin(4, true);
    second.emit("twin-updated", second.a, "report");
    expect(view.node(a)?.version).toBe((after?.version ?? 0) + 1);
    view.close();
    await host.close();
  });

  it("leaves a single service's versions as they are", () => {
    const v = new ShownVersions();
    expect([v.of(0, undefined), v.of(7, undefined), v.of(3, undefined)]).toEqual([0, 7, 3]);
    expect([v.of(5, 1), v.of(9, 1), v.of(2, 2), v.of(3, 2)]).toEqual([5, 9, 12, 13]);
  });

  it("logs the broker's restart the first service was told as it connected, before the host existed", async () => {
    // A run on --twins-data whose broker restarted since the run before: the service says so at its
    // first connection, while TwinsHost.start waits for it, with nobody yet listening to the host.
    const how = "its start id changed";
    const host = await TwinsHost.start(async (created) => {
      const t = Object.assign(fakeService(), { restartAtStart: { unheard: [], how } });
      created(t);
      t.emit("broker-restarted", [], how, true);
      return t;
    });
    const view = new TwinsSource(host, "run", new FakeScheduler(0));
    const logged: string[] = [];
    view.on("log", (l) => logged.push(l.text));
    expect(logged.filter((t) => t.includes("restarted"))).toEqual([
      "the broker restarted since the service before this one on its data directory read it (its start id changed): the statuses it replays are not counted online until their nodes are heard, offline when the will comes",
    ]);
    view.close();
    await host.close();
  });
});
