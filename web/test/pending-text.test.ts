/**
 * What the node page says waits for a node (web/public/pending.js): a set kept for an offline node
 * is named, with what it sets, and is not taken for a pairing waiting to be confirmed; a pairing
 * stored while the broker was away names what the node is to follow.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";

interface Texts {
  readonly set: string | undefined;
  readonly pairing: { readonly waiting: boolean; readonly text: string; readonly configVersion: number };
}

async function pendingTexts(d: Record<string, unknown>): Promise<Texts> {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "pending.js")).href;
  const mod = (await import(url)) as { pendingTexts: (d: Record<string, unknown>) => Texts };
  return mod.pendingTexts(d);
}

const node = (desired: Record<string, unknown>, online = false) => ({
  id: "n-0020",
  online,
  follows: ["n-0019"],
  desired: { sources: ["n-0019"], configVersion: 1, ...desired },
});

it("names a set kept for an offline node, and says the pairing is confirmed", async () => {
  // GET /api/nodes/n-0020 after "Turn off" on the offline node (a 202).
  const t = await pendingTexts(
    node({ pending: true, pairingPending: false, pendingSet: { on: false, counter: 133 } }),
  );
  expect(t.set).toBe(
    "LED off waits for n-0020, which is offline: it is sent when the node registers again (a later set replaces it).",
  );
  expect(t.pairing).toEqual({ waiting: false, text: "confirmed by the node", configVersion: 1 });
});

it("says a set sent to an online node is not reported yet", async () => {
  const t = await pendingTexts(
    node({ pending: true, pairingPending: false, pendingSet: { on: true, counter: 4 } }, true),
  );
  expect(t.set).toBe("LED on sent: n-0020 has not reported it yet (the LED shown is what it reported last).");
});

it("names what a node is to follow while its pairing waits", async () => {
  // A pairing stored while the broker was away (202): `follows` is what the node confirmed.
  const t = await pendingTexts(node({ sources: ["n-0019", "n-0050"], pending: true, pairingPending: true }));
  expect(t.set).toBeUndefined();
  expect(t.pairing).toEqual({
    waiting: true,
    text: "waiting for the node to confirm: it is to follow n-0019, n-0050",
    configVersion: 1,
  });
  const none = await pendingTexts(node({ sources: [], pending: true, pairingPending: true }));
  expect(none.pairing.text).toBe("waiting for the node to confirm: it is to follow no node");
});

it("says nothing waits when nothing does", async () => {
  const t = await pendingTexts(node({ pending: false, pairingPending: false }, true));
  expect(t).toEqual({
    set: undefined,
    pairing: { waiting: false, text: "confirmed by the node", configVersion: 1 },
  });
});

it("says in the list's tooltip what waits for an offline node", async () => {
  const url = pathToFileURL(join(import.meta.dirname, "..", "public", "dom.js")).href;
  const { waitsText } = (await import(url)) as { waitsText: (w: string) => string };
  expect(waitsText("set")).toBe("a set kept for it, carried out when it returns");
  expect(waitsText("set and pairing")).toBe("a set and a pairing kept for it, carried out when it returns");
});
