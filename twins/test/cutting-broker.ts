/**
 * A Mosquitto-like connection for the cut-replay tests (twins/replay-cut.ts, twins/replay-reread.ts):
 * one SUBSCRIBE's retained messages queued before any is written, each dropped once the queued bytes
 * reach `max_queued_bytes`, then written in order before the next packet's answer.
 */
import { ReplayCut, WHOLE_TOPIC } from "../replay-cut.js";

const matches = (filter: string, topic: string) => {
  const f = filter.split("/");
  const t = topic.split("/");
  return f.length === t.length && f.every((part, i) => part === "+" || part === t[i]);
};

/** A Mosquitto-like connection holding `retained`, queueing at most `maxBytes` (0: no limit) of a replay. */
export function broker(
  retained: ReadonlyMap<string, string>,
  maxBytes: number,
  refuse: readonly string[] = [],
) {
  const cut = new ReplayCut();
  const packets: string[][] = [];
  const heard: string[] = [];
  const unsubscribed: string[][] = [];
  let waiting: string[] = [];
  const deliver = () => {
    for (const topic of waiting) {
      heard.push(topic);
      cut.message(topic, true);
    }
    waiting = [];
  };
  const client = {
    subscribeAsync: async (topic: string | string[], o: { qos: 0 | 1 }) => {
      deliver();
      const filters = [topic].flat();
      packets.push(filters);
      let bytes = 0;
      for (const filter of filters.filter((f) => !refuse.includes(f)))
        for (const [t, payload] of retained)
          if (matches(filter, t) && (maxBytes === 0 || bytes < maxBytes)) {
            waiting.push(t);
            bytes += payload.length;
          }
      const granted = filters.map((f) => ({ topic: f, qos: refuse.includes(f) ? 128 : o.qos }));
      return granted;
    },
    unsubscribeAsync: async (topic: string | string[]) => {
      unsubscribed.push([topic].flat());
      deliver();
    },
  };
  return { cut, client, packets, heard, unsubscribed };
}

export const fleet = (n: number, sys = true) => {
  const m = new Map<string, string>();
  if (sys) m.set(WHOLE_TOPIC, "mosquitto version 2.0.11");
  for (let i = 0; i < n; i++) {
    const id = `n-${String(i).padStart(4, "0")}`;
    m.set(`tf/config/${id}`, `C1 3 n-${String((i + 1) % n).padStart(4, "0")}`);
    m.set(`tf/status/${id}`, "T1 0");
    m.set(`tf/report/${id}`, `R1 1 ${i + 1} ${id}`);
  }
  return m;
};
