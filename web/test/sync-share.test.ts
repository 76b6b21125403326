/**
 * The page's share of followers in sync (web/public/dom.js `syncShare`): "–" while no follower is
 * known, where a convergence snapshot's fraction is 1 by convention and the page showed "100.0 %" of
 * nothing at a fleet's boot; the store keeps each point's `known`, so the chart can leave such
 * points out.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

const load = (file: string) => import(pathToFileURL(join(import.meta.dirname, "..", "public", file)).href);

it("says nothing of sync while no follower is known, and the share once one is", async () => {
  const { syncShare } = (await load("dom.js")) as { syncShare(c: unknown): string };
  expect(syncShare({ fraction: 1, inSync: 0, known: 0 })).toBe("–");
  expect(syncShare(undefined)).toBe("–");
  expect(syncShare({ fraction: 0.75, inSync: 3, known: 4 })).toBe("75.0 %");
});

it("says no follower is online to judge when every known one is offline, not the last-heard 100 %", async () => {
  const { syncShare, syncDetail } = (await load("dom.js")) as {
    syncShare(c: unknown): string;
    syncDetail(c: unknown): string;
  };
  const allOffline = { fraction: 1, inSync: 100, known: 100, online: 0 };
  expect(syncShare(allOffline)).toBe("no follower online");
  expect(syncDetail(allOffline)).toBe(
    "no follower online to judge: when last heard, 100 of 100 followers held their sources' newest state",
  );
  const some = { fraction: 0.75, inSync: 3, known: 4, online: 1 };
  expect(syncShare(some)).toBe("75.0 %");
  expect(syncDetail(some)).toBe(
    "3 of 4 followers hold their sources' newest state (3 offline: as last heard)",
  );
  // A source without presence (the demo) reads as before.
  expect(syncDetail({ fraction: 1, inSync: 4, known: 4 })).toBe(
    "4 of 4 followers hold their sources' newest state",
  );
});

it("keeps how many followers were known at each point of the convergence history", async () => {
  const { Store } = (await load("store.js")) as {
    Store: new () => { convergence: { history: unknown[] }; setConvergence(c: unknown): void };
  };
  const store = new Store();
  store.setConvergence({ t: 1, fraction: 1, inSync: 0, known: 0 });
  store.setConvergence({ t: 2, fraction: 0.5, inSync: 1, known: 2 });
  expect(store.convergence.history).toEqual([
    { t: 1, fraction: 1, known: 0 },
    { t: 2, fraction: 0.5, known: 2 },
  ]);
  // With presence known, whether any follower was online: the chart shows no share where none was.
  store.setConvergence({ t: 3, fraction: 1, inSync: 2, known: 2, online: 0 });
  expect(store.convergence.history.at(-1)).toEqual({ t: 3, fraction: 1, known: 2, online: 0 });
});

it("keeps the broker's outages and the time of a frame that moves only the time, adding no point", async () => {
  const { Store } = (await load("store.js")) as {
    Store: new () => {
      convergence: { t?: number; away?: unknown; history: unknown[] };
      setConvergence(c: unknown): void;
    };
  };
  const store = new Store();
  store.setConvergence({ t: 1, fraction: 1, inSync: 2, known: 2, online: 2 });
  // While the broker is away the service sends the same share each second, with the outage under way.
  store.setConvergence({ t: 2, fraction: 1, inSync: 2, known: 2, online: 2, away: [{ from: 1.5 }] });
  store.setConvergence({ t: 3, fraction: 1, inSync: 2, known: 2, online: 2, away: [{ from: 1.5 }] });
  expect(store.convergence.history).toEqual([{ t: 1, fraction: 1, known: 2, online: 2 }]);
  expect(store.convergence.t).toBe(3);
  expect(store.convergence.away).toEqual([{ from: 1.5 }]);
  store.setConvergence({
    t: 4,
    fraction: 0.5,
    inSync: 1,
    known: 2,
    online: 2,
    away: [{ from: 1.5, to: 3.5 }],
  });
  expect(store.convergence.history.at(-1)).toEqual({ t: 4, fraction: 0.5, known: 2, online: 2 });
});

it("says the broker is away, not the share from before it, while an outage is under way", async () => {
  const { syncShare, syncDetail } = (await load("dom.js")) as {
    syncShare(c: unknown): string;
    syncDetail(c: unknown): string;
  };
  const held = { fraction: 1, inSync: 12, known: 12, online: 12 };
  const away = { ...held, away: [{ from: 1, to: 2 }, { from: 5 }] };
  expect(syncShare(away)).toBe("broker away");
  expect(syncDetail(away)).toBe(
    "broker away, nothing heard: when last heard, 12 of 12 followers held their sources' newest state",
  );
  // Back: the share is current again.
  const back = {
    ...held,
    away: [
      { from: 1, to: 2 },
      { from: 5, to: 9 },
    ],
  };
  expect(syncShare(back)).toBe("100.0 %");
  expect(syncDetail(back)).toBe("12 of 12 followers hold their sources' newest state");
});

it("says followers not heard since the broker restarted are not heard yet, not offline", async () => {
  const { syncShare, syncDetail } = (await load("dom.js")) as {
    syncShare(c: unknown): string;
    syncDetail(c: unknown): string;
  };
  // The service back on a broker restarted on its store, before any node was heard (/api/convergence).
  const noneHeard = { fraction: 1, inSync: 50, known: 50, online: 0, unheard: 50 };
  expect(syncShare(noneHeard)).toBe("no follower heard yet");
  expect(syncDetail(noneHeard)).toBe(
    "no follower heard yet to judge (50 not heard since the broker restarted): when last heard, 50 of 50 followers held their sources' newest state",
  );
  // Two gone (their wills), the rest not heard yet: no follower online, and it said so of all.
  const noneOnline = { fraction: 1, inSync: 50, known: 50, online: 0, unheard: 48 };
  expect(syncShare(noneOnline)).toBe("no follower online");
  expect(syncDetail(noneOnline)).toBe(
    "no follower online to judge (2 offline, 48 not heard since the broker restarted): when last heard, 50 of 50 followers held their sources' newest state",
  );
  // Three heard, two gone for good (their wills), the rest not heard yet: it read "47 offline".
  const some = { fraction: 0.84, inSync: 42, known: 50, online: 3, unheard: 45 };
  expect(syncShare(some)).toBe("84.0 %");
  expect(syncDetail(some)).toBe(
    "42 of 50 followers hold their sources' newest state (2 offline, 45 not heard since the broker restarted: as last heard)",
  );
  const onlyUnheard = { fraction: 1, inSync: 50, known: 50, online: 3, unheard: 47 };
  expect(syncDetail(onlyUnheard)).toBe(
    "50 of 50 followers hold their sources' newest state (47 not heard since the broker restarted: as last heard)",
  );
});
