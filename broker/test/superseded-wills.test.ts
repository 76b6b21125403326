/**
 * The wills a Redis cluster's clean-up publishes (broker/superseded-wills.ts): a will a client left
 * with a dead member is deleted, not published, once the client holds a will on a live member — it
 * came back there, and its old will would report it gone while it runs.
 */
import { expect, it } from "vitest";
import { type KeptWill, unsupersededWills } from "../superseded-wills.js";

interface Will extends KeptWill {
  readonly topic: string;
}

function store(wills: Will[]) {
  const deleted: string[] = [];
  return {
    deleted,
    held: wills,
    async *allWills(): AsyncIterable<Will> {
      for (const w of [...wills]) yield w;
    },
    async delWill(c: { readonly id: string; readonly brokerId: string }): Promise<unknown> {
      deleted.push(`${c.brokerId}:${c.id}`);
      const i = wills.findIndex((w) => w.clientId === c.id && w.brokerId === c.brokerId);
      if (i >= 0) wills.splice(i, 1);
      return undefined;
    },
  };
}

const will = (brokerId: string, clientId: string): Will => ({
  brokerId,
  clientId,
  topic: `tf/status/${clientId}`,
});

async function collect(it: AsyncIterable<Will>): Promise<string[]> {
  const out: string[] = [];
  for await (const w of it) out.push(`${w.brokerId}:${w.clientId}`);
  return out;
}

it("a client back on a live member: the will it left with the dead one is deleted, not published", async () => {
  // Member `old` was killed; `new` is it restarted, `b` the other member. n1 and n2 came back on
  // `new`, n3 moved to `b`; n4 has not come back.
  const s = store([
    will("old", "n1"),
    will("old", "n2"),
    will("old", "n3"),
    will("old", "n4"),
    will("new", "n1"),
    will("new", "n2"),
    will("b", "n3"),
  ]);
  const published = await collect(unsupersededWills(s, { new: 1, b: 1 }));
  expect(published).toEqual(["old:n4"]);
  expect(s.deleted).toEqual(["old:n1", "old:n2", "old:n3"]);
  // The live members' wills stay, to be published when those clients die.
  expect(s.held.map((w) => `${w.brokerId}:${w.clientId}`)).toEqual(["old:n4", "new:n1", "new:n2", "b:n3"]);
});

it("no live broker named (the member watch's read of every will): every will, nothing deleted", async () => {
  const s = store([will("old", "n1"), will("new", "n1")]);
  expect(await collect(unsupersededWills(s, {}))).toEqual(["old:n1", "new:n1"]);
  expect(await collect(unsupersededWills(s, undefined))).toEqual(["old:n1", "new:n1"]);
  expect(s.deleted).toEqual([]);
});

it("a will of a broker alive is never handed out, as the package's stream leaves it out", async () => {
  const s = store([will("a", "n1"), will("dead", "n2")]);
  expect(await collect(unsupersededWills(s, { a: 1, gone: 0 }))).toEqual(["dead:n2"]);
});
