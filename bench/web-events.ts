/**
 * The web benches' event-stream reader: counts the server's events by name and the bytes read, in
 * whichever process reads them (the bench's own, or a client process of its own).
 */
import { request } from "node:http";

/** Reads the event stream, counting events by name and bytes; `stop()` ends it. */
export function readEvents(origin: string): {
  counts: Record<string, number>;
  bytes: () => number;
  stop(): void;
} {
  const counts: Record<string, number> = {};
  let bytes = 0;
  const req = request(`${origin}/api/events`, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      bytes += chunk.length;
      for (const m of chunk.matchAll(/^event: (\w+)$/gm))
        counts[m[1] as string] = (counts[m[1] as string] ?? 0) + 1;
    });
    res.on("error", () => {});
  });
  req.on("error", () => {});
  req.end();
  return { counts, bytes: () => bytes, stop: () => req.destroy() };
}
