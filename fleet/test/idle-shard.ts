/**
 * The shard (or run) a test of the ids-in-use waits and claims runs: 4 ideal nodes in pairs, no presses, on `broker`'s
 * URL, with an MQTT keepalive of `keepaliveS` (ids online, and claims, are given 1.5 × the keepalive
 * and a second more to go).
 */
export const idleShard = (broker: string, keepaliveS: number) => ({
  broker,
  nodes: 4,
  topology: "pairs" as const,
  groupSize: 2,
  ratePerNodePerMin: 0,
  durationS: 60,
  settleS: 0.5,
  workers: 1,
  profile: "ideal",
  profileOverrides: { mqtt: { keepaliveS } },
});
