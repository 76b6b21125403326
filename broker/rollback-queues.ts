/**
 * Messages an older build queued on this store after a rollback, put back in their place. Builds
 * before 5 December keyed a session's queue by a random UUID per start, which sorts before this
 * build's `t<start>-…` ids (broker/level-store.ts), so what such a build queued after this one had
 * run went out ahead of what this one had queued before it: a rollback and a new upgrade reversed
 * a session's order [MQTT-4.6.0-2]. Each start records the UUID ids then holding messages; an id
 * found later and not recorded was queued after this build's last start, and its messages are
 * keyed again after that start's. A store no start of this build recorded is left as it is: what
 * its UUIDs hold was queued before any `t` id.
 */
import type { ClassicLevel } from "classic-level";

/** This module's key: the ids of older builds holding queued messages at this build's last start. */
const OLDER_IDS = "twinfleet-queue-older-ids";

/** One queued message's key, as the package writes it: `outgoing:<client>:<broker id>:<counter>`. */
export interface QueuedKey {
  readonly key: string;
  /** As in the key (URI-encoded). */
  readonly client: string;
  readonly brokerId: string;
}

/** The package's calls used to queue a message again under another id. */
export interface Requeuer {
  outgoingStream(client: { readonly id: string }): AsyncIterable<unknown>;
  outgoingEnqueue(sub: { readonly clientId: string }, packet: object): Promise<void>;
  outgoingUpdate(client: { readonly id: string }, packet: object): Promise<void>;
}

/** The ids the record names; none recorded (or a record not whole): undefined, nothing is moved. */
function recordedIds(value: Buffer | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  try {
    const ids: unknown = JSON.parse(value.toString());
    return Array.isArray(ids) && ids.every((v) => typeof v === "string") ? new Set(ids) : undefined;
  } catch {
    return undefined;
  }
}

const isOlderId = (brokerId: string) => !/^t\d{12}-/.test(brokerId);

/**
 * Re-keys the messages of older ids not recorded at this build's last start after `lastStart`, as
 * start `lastStart + 1`; records the older ids left. Resolves to the last start now used. Runs
 * before the broker listens: nothing else writes the keys meanwhile.
 */
export async function requeueRollbackMessages(
  db: ClassicLevel<string, Buffer>,
  store: Requeuer,
  keys: readonly QueuedKey[],
  lastStart: number,
): Promise<number> {
  const known = recordedIds(await db.get(OLDER_IDS));
  const late = known === undefined ? [] : keys.filter((k) => isOlderId(k.brokerId) && !known.has(k.brokerId));
  const to = (brokerId: string) => `t${String(lastStart + 1).padStart(12, "0")}-${brokerId}`;
  const lateKeys = new Set(late.map((k) => k.key));
  const moved = new Set<string>();
  for (const client of new Set(late.map((k) => k.client))) {
    const id = decodeURIComponent(client);
    // The stream reads the client's keys in the order listed: the i-th packet is the i-th key's.
    const mine = keys.filter((k) => k.client === client);
    const values: unknown[] = [];
    for await (const value of store.outgoingStream({ id })) values.push(value);
    for (const [i, value] of values.entries()) {
      const k = mine[i];
      const packet = value as { brokerId?: unknown; messageId?: unknown };
      if (k === undefined || !lateKeys.has(k.key) || packet.brokerId !== k.brokerId) continue;
      const again = { ...packet, brokerId: to(k.brokerId) };
      await store.outgoingEnqueue({ clientId: id }, again);
      // Sent and not acknowledged: its message id names the new key.
      if (typeof packet.messageId === "number" && packet.messageId > 0)
        await store.outgoingUpdate({ id }, again);
      moved.add(k.key);
    }
  }
  await db.batch([...moved].map((key) => ({ type: "del" as const, key })));
  const older = new Set(
    keys.filter((k) => isOlderId(k.brokerId) && !moved.has(k.key)).map((k) => k.brokerId),
  );
  await db.put(OLDER_IDS, Buffer.from(JSON.stringify([...older])));
  return moved.size > 0 ? lastStart + 1 : lastStart;
}
