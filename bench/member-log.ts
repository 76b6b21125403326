/**
 * What a NATS cluster's members logged about the MQTT layer's JetStream calls, counted: the lines
 * docs/cluster.md ("Where 10,000 nodes on one host are lost") traces a cluster run's losses to. Each
 * of these is a call that missed NATS 2.9's fixed 4 s.
 */
import { readFileSync } from "node:fs";

const KINDS = {
  /** A QoS 1 SUBSCRIBE answered SUBACK 0x80: the node runs without that subscription. */
  refusedSubscriptions: "Unable to add JetStream consumer for subscription",
  /** A CONNECT refused: the session record was not loaded in time. */
  refusedConnects: "unable to connect: loading session record",
  /** A retained publish delivered live whose retained copy was not stored. */
  retainedStoreTimeouts: "unable to store retained message",
  sessionWriteTimeouts: "unable to persist session",
  consumerDeleteTimeouts: "unable to delete consumer",
} as const;

export type MemberLogCounts = Record<keyof typeof KINDS, number>;

/** Counts each kind of line in `text` (the members' logs, as interop/cluster.ts keeps them). */
export function countMemberLog(text: string): MemberLogCounts {
  const out = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0])) as MemberLogCounts;
  const kinds = Object.entries(KINDS) as [keyof typeof KINDS, string][];
  for (const line of text.split("\n")) {
    for (const [kind, marker] of kinds) if (line.includes(marker)) out[kind]++;
  }
  return out;
}

/** The counts of the log file at `path`, or undefined when there is none (the cluster never started). */
export function countMemberLogFile(path: string): MemberLogCounts | undefined {
  try {
    return countMemberLog(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
