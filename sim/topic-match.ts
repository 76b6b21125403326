/**
 * MQTT topic filters with `+` (one level) matched against topics, for the in-memory broker: a filter
 * split at its levels once is matched against a topic without splitting the topic, on every publish.
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
