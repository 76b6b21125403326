/**
 * The web bench's client, in a process of its own as a browser would be (its parsing must not land on
 * the fleet's main thread): reads the event stream, counting events and bytes, and fetches
 * `/api/nodes` every `everyMs`, timing each. It starts before the fleet (its own start-up must not
 * land in the measured run): it says `ready`, then reads the server's origin from its stdin. On
 * SIGTERM it prints its figures as one JSON line.
 *   node --import tsx bench/web-client.ts [everyMs]      (then write http://127.0.0.1:PORT\n to it)
 */
import { createInterface } from "node:readline";
import { readEvents } from "./web-events.js";

const everyMs = Number(process.argv[2] ?? 3000);
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
const origin = await new Promise<string>((resolve) => lines.once("line", (l) => resolve(l.trim())));
lines.close();
const events = readEvents(origin);
const times: number[] = [];
let listBytes = 0;
let listNodes = 0;

let busy = false;
const poll = setInterval(() => {
  if (busy) return;
  busy = true;
  const t0 = performance.now();
  void fetch(`${origin}/api/nodes`)
    .then((r) => r.text())
    .then((text) => {
      times.push(performance.now() - t0);
      listBytes = text.length;
      listNodes = (JSON.parse(text) as { total: number }).total;
    })
    .catch(() => {})
    .finally(() => {
      busy = false;
    });
}, everyMs);

process.once("SIGTERM", () => {
  clearInterval(poll);
  events.stop();
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  process.stdout.write(
    `${JSON.stringify({
      events: { ...events.counts, bytes: events.bytes() },
      apiNodes: {
        requests: sorted.length,
        nodes: listNodes,
        bytes: listBytes,
        p50Ms: q(0.5),
        p99Ms: q(0.99),
        maxMs: sorted.at(-1) ?? 0,
      },
    })}\n`,
  );
  process.exit(0);
});
