// What still waits for a node, in the node page's words: a set it has not reported yet (kept for an
// offline node until it registers again) and a pairing it has not confirmed, with what it is to
// follow. Pure, so web/test/pending-text.test.ts reads the texts without a browser.

/**
 * `set`: a sentence about the set the node has not reported yet, or undefined when there is none.
 * `pairing`: the configuration line's end, and whether the pairing waits for the node.
 */
export function pendingTexts(d) {
  const want = d.desired ?? { sources: d.follows, configVersion: 0, pending: false };
  const p = want.pendingSet;
  const led = p && `LED ${p.on ? "on" : "off"}`;
  const set =
    p === undefined
      ? undefined
      : d.online
        ? `${led} sent: ${d.id} has not reported it yet (the LED shown is what it reported last).`
        : `${led} waits for ${d.id}, which is offline: it is sent when the node registers again (a later set replaces it).`;
  // A server without `pairingPending` said `pending` of a set and of a pairing alike.
  const waiting = want.pairingPending ?? (want.pending && p === undefined);
  const sources = want.sources ?? [];
  const same = sources.length === d.follows.length && sources.every((s) => d.follows.includes(s));
  const text = !waiting
    ? "confirmed by the node"
    : same
      ? "waiting for the node to confirm"
      : `waiting for the node to confirm: it is to follow ${sources.length ? sources.join(", ") : "no node"}`;
  return { set, pairing: { waiting, text, configVersion: want.configVersion } };
}
