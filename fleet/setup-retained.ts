/**
 * What a run writes on an external broker as a control tool, each with a one-shot client of its own:
 * its fleet's pairing as retained configs beside a twins service it joined, and with `--fresh` the
 * fleet's retained report, config and status emptied before it starts (fleet/setup.ts).
 */
import type mqtt from "mqtt";
import { encode, type NodeId, type Prefix, topicOf } from "../protocol/index.js";
import type { Pairing } from "../sim/topology.js";
import { type BrokerLogin, connectClient, loginOptions, sameSet } from "../twins/index.js";
import { clearingWords, stoppedWhile, unlessStopped } from "./ids-in-use.js";
import type { TwinsHost } from "./twins-host.js";

/**
 * Pairs like any other control tool beside a running twins service (protocol.md §6): the retained
 * config of each fleet node whose pairing differs, with a version above any the broker or the
 * service knows. The nodes have not booted yet, so they adopt it when they sync, and the service
 * takes it as its desire and confirms it when the nodes report.
 */
export async function writePairing(
  url: string,
  login: BrokerLogin | undefined,
  view: TwinsHost,
  ids: readonly NodeId[],
  pairing: Pairing,
): Promise<void> {
  const client = await toolClient(url, login);
  try {
    for (const id of ids) {
      const want = pairing.get(id) ?? [];
      const t = view.get(id);
      const has = t?.config?.sources ?? [];
      if (t?.config && sameSet(has, want)) continue;
      const version = Math.max(t?.config?.version ?? 0, t?.desired.configVersion ?? 0) + 1;
      const e = encode(view.prefix, { kind: "config", node: id, version, sources: [...want] });
      await client.publishAsync(e.topic, e.payload, { qos: 1, retain: true });
    }
  } finally {
    await client.endAsync();
  }
}

/**
 * Empties the retained state of a fleet's ids on an external broker (`--fresh`). `stop` aborted ends
 * it at once (its connect too), with a FleetStartStoppedError saying how many the broker had
 * acknowledged: a broker that stopped answering held the stop until its connect timed out (10 s) or,
 * once connected, for ever, and a stop said nothing of what it left.
 */
export async function clearRetained(
  url: string,
  login: BrokerLogin | undefined,
  prefix: Prefix,
  ids: readonly NodeId[],
  stop?: AbortSignal,
): Promise<void> {
  const total = ids.length * 3;
  let cleared = 0;
  const doing = () => clearingWords(cleared, total, "the fleet's");
  const client = await toolClient(url, login, stop).catch(stoppedWhile(stop, doing()));
  try {
    const all = (async () => {
      for (const id of ids) {
        for (const kind of ["report", "config", "status"] as const) {
          if (stop?.aborted) return;
          await client.publishAsync(topicOf(prefix, kind, id), "", { retain: true, qos: 1 });
          cleared++;
        }
      }
    })();
    await unlessStopped(all, stop, doing);
  } finally {
    // Stopped, at once: a gentle end waits for the publish the broker left unanswered.
    await client.endAsync(stop?.aborted === true).catch(() => {});
  }
}

/** A one-shot client of the run's own tools, logged in as the twins service is. */
async function toolClient(
  url: string,
  login: BrokerLogin | undefined,
  stop?: AbortSignal,
): Promise<mqtt.MqttClient> {
  // Settled however the connection goes (a broker that closes it at once: fleet/fleet-claim.ts).
  return await connectClient(
    url,
    { clean: true, reconnectPeriod: 0, connectTimeout: 10_000, ...loginOptions(login) },
    stop,
  );
}
