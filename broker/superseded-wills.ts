/**
 * The wills a Redis cluster's will clean-up may publish: not those a client left with a dead member
 * and has since replaced on a live one. Redis keeps one will per broker and client
 * (`will:<broker id>:<client id>`), so a node whose member was killed and that reconnected to it
 * restarted (a new id), or to another member, left its old will behind; aedes's clean-up (every 4
 * minutes, on each member) publishes the wills of every broker not heard from in 3 heartbeats, and
 * skips only a client connected to the member that cleans. The old will went out minutes after the
 * node was back: `T1 0` retained over its live `T1 1`, the node shown offline by the twins while it
 * ran, after every restart of a member. Such a will is deleted here instead, unpublished: its client
 * came back with a will of its own, on a member alive, which speaks for it now — as a client back
 * within the grace of a `--data` broker has nothing published for it (broker/stale-wills.ts).
 */

/** A will as the stores keep it: with its client and the broker it was connected to. */
export interface KeptWill {
  readonly clientId: string;
  readonly brokerId: string;
}

/** What of the store this reads and deletes. */
export interface WillSource<W extends KeptWill> {
  /** Every will the store holds. */
  allWills(): AsyncIterable<W>;
  delWill(client: { readonly id: string; readonly brokerId: string }): Promise<unknown>;
}

/**
 * The wills of brokers not in `alive` (the clean-up's live brokers, as aedes passes them to
 * streamWill), less those whose client also holds a will on a broker in `alive`: those are deleted.
 * With no broker alive given, every will of the brokers not named, as before.
 */
export async function* unsupersededWills<W extends KeptWill>(
  store: WillSource<W>,
  alive: Readonly<Record<string, unknown>> | undefined,
): AsyncGenerator<W> {
  const live = (brokerId: string) => alive !== undefined && Boolean(alive[brokerId]);
  const wills: W[] = [];
  for await (const will of store.allWills()) wills.push(will);
  const back = new Set(wills.filter((w) => live(w.brokerId)).map((w) => w.clientId));
  for (const will of wills) {
    if (live(will.brokerId)) continue;
    if (back.has(will.clientId)) await store.delWill({ id: will.clientId, brokerId: will.brokerId });
    else yield will;
  }
}
