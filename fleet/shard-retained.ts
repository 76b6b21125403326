/**
 * The retained messages a shard writes for its own nodes on the shared broker: their pairing as
 * retained configs (fleet/shard-run.ts), and with `--fresh` their retained report, config and status
 * emptied first. Each all in flight at once.
 */
import type mqtt from "mqtt";
import { encode, type NodeId, type Prefix, topicOf } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";
import { sameSet } from "../twins/index.js";
import { clearingWords, unlessStopped } from "./ids-in-use.js";
import type { FleetWatch } from "./shard-watch.js";

/** What a stop while the shard writes its nodes' pairing configs says: how many the broker acknowledged. */
export const configWords = (written: number, total: number): string =>
  `writing the pairing configs of this shard's nodes: ${written} of ${total} configs written, the rest may be missing`;

/**
 * Pairs this shard's nodes as fleet/setup.ts writePairing does — the retained config of each node
 * whose pairing differs, versioned above what the broker holds — but all in flight at once: a shard
 * of thousands of nodes on a busy broker would otherwise wait a round trip per node. `stop` aborted
 * ends it at once with a FleetStartStoppedError that says how many the broker had acknowledged: on a
 * broker that answered no PUBACK (its pings answered) a stop here held the shard for ever, after it
 * had said `cut short: writing the shard report`.
 */
export async function writeConfigs(
  client: mqtt.MqttClient,
  watch: FleetWatch,
  prefix: Prefix,
  ids: readonly NodeId[],
  pairing: Pairing,
  stop?: AbortSignal,
): Promise<void> {
  const sent: Promise<unknown>[] = [];
  let written = 0;
  for (const id of ids) {
    const want = pairing.get(id) ?? [];
    const has = watch.configSources(id);
    if (has && sameSet(has, want)) continue;
    const version = watch.configVersion(id) + 1;
    const e = encode(prefix, { kind: "config", node: id, version, sources: [...want] });
    sent.push(client.publishAsync(e.topic, e.payload, { qos: 1, retain: true }).then(() => written++));
  }
  await unlessStopped(Promise.all(sent), stop, () => configWords(written, sent.length));
}

/**
 * `--fresh`: empties the retained report, config and status of this shard's nodes, all in flight at
 * once. `stop` aborted ends it at once with a FleetStartStoppedError that says how many the broker
 * had acknowledged: the rest may still be held (a broker that stopped answering held the stop until
 * its keepalive ran out, or for ever with its pings answered, and then said nothing of them).
 */
export async function clearRetained(
  client: mqtt.MqttClient,
  prefix: Prefix,
  ids: readonly NodeId[],
  stop?: AbortSignal,
): Promise<void> {
  const sent: Promise<unknown>[] = [];
  let cleared = 0;
  for (const id of ids)
    for (const kind of ["report", "config", "status"] as const)
      sent.push(
        client.publishAsync(topicOf(prefix, kind, id), "", { retain: true, qos: 1 }).then(() => cleared++),
      );
  await unlessStopped(Promise.all(sent), stop, () => clearingWords(cleared, sent.length, "this shard's"));
}
