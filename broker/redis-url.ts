/**
 * A Redis URL as `--redis` takes it: what is wrong with one, and the form shown in messages and logs.
 * Apart from the store (broker/redis-store.ts) so that checking options loads no Redis client.
 */

/** Why `url` is not a Redis URL, or undefined. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be a URL like redis://127.0.0.1:6379";
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    return `must start with redis:// or rediss://, not ${parsed.protocol}//`;
  if (parsed.hostname === "") return "must name a host, e.g. redis://127.0.0.1:6379";
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) return `names database ${JSON.stringify(db)}: must be a number`;
  return undefined;
}

/** The URL with its password hidden, for messages and logs. */
export function redactRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}
