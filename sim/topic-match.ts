/**
 * MQTT topic filters with `+` (one level) matched against topics, for the in-memory broker: a filter
 * split at its levels once is matched against a topic without splitting the topic, on every publish;
 * and the index of who subscribed to which filter.
 */

/** Whether `filter` (with `+` levels) matches `topic`. */
export function matches(filter: string, topic: string): boolean {
  return matchesLevels(filter.split("/"), topic.split("/"));
}

/** `matchesLevels(f, topic.split("/"))` without splitting the topic (it runs for every publish). */
export function matchesTopic(f: readonly string[], topic: string): boolean {
  const last = f.length - 1;
  let at = 0;
  for (let i = 0; i <= last; i++) {
    // The last level runs to the topic's end, which must then hold no further level.
    const end = i === last ? (topic.includes("/", at) ? -1 : topic.length) : topic.indexOf("/", at);
    if (end < 0) return false;
    const level = f[i] as string;
    if (level !== "+" && (end - at !== level.length || !topic.startsWith(level, at))) return false;
    at = end + 1;
  }
  return last >= 0;
}

export function matchesLevels(f: readonly string[], t: readonly string[]): boolean {
  if (f.length !== t.length) return false;
  for (let i = 0; i < f.length; i++) if (f[i] !== "+" && f[i] !== t[i]) return false;
  return true;
}

/** A filter with `+` levels, split once, and who subscribed to it. */
export interface WildFilter<C> {
  readonly filter: string;
  readonly levels: readonly string[];
  readonly set: Set<C>;
}

/**
 * Subscribers by filter: exact filters looked up by the topic itself, filters with `+` kept in a list
 * to match one by one (a fleet has a handful: the twins' and the control server's).
 */
export class TopicIndex<C> {
  readonly exact = new Map<string, Set<C>>();
  readonly wild: WildFilter<C>[] = [];

  add(filter: string, c: C): void {
    if (!filter.includes("+")) {
      let set = this.exact.get(filter);
      if (!set) {
        set = new Set();
        this.exact.set(filter, set);
      }
      set.add(c);
      return;
    }
    let w = this.wild.find((x) => x.filter === filter);
    if (!w) {
      w = { filter, levels: filter.split("/"), set: new Set() };
      this.wild.push(w);
    }
    w.set.add(c);
  }

  remove(filter: string, c: C): void {
    if (!filter.includes("+")) {
      const set = this.exact.get(filter);
      set?.delete(c);
      if (set?.size === 0) this.exact.delete(filter);
      return;
    }
    const i = this.wild.findIndex((x) => x.filter === filter);
    const w = this.wild[i];
    if (!w) return;
    w.set.delete(c);
    if (w.set.size === 0) this.wild.splice(i, 1);
  }

  clear(): void {
    this.exact.clear();
    this.wild.length = 0;
  }
}
