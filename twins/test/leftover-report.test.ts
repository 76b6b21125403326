/**
 * A retained report replayed when the service subscribes, whose origin the configs the broker holds
 * now do not lead to: written under a pairing since changed or cleared (an earlier, larger run's
 * leftovers, the configs of their sources cleared by a `sim --fresh` of fewer nodes), or spoofed.
 * The line says which it may be: it used to read as an attack only. A live report stays told as
 * before. Real sockets to a broker on port 0.
 */
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

it("tells a replayed report its configs no longer explain as a possible leftover, a live one as before", async () => {
  const broker = await fx.broker();
  const raw = fx.track(await rawClient(broker.url), (r) => r.endAsync());
  // n-0020 followed n-0019, which followed round a ring to n-0021: n-0019's config is cleared now.
  await raw.publishAsync("tf/config/n-0020", "C1 1 n-0019", { qos: 1, retain: true });
  await raw.publishAsync("tf/report/n-0020", "R1 1 17 n-0021", { qos: 1, retain: true });
  await raw.publishAsync("tf/status/n-0020", "T1 0", { qos: 1, retain: true });
  const seen: { reason?: string; msg?: string }[] = [];
  const stream = { write: (line: string) => seen.push(JSON.parse(line)) };
  const t = await fx.twins({ logger: pino({ level: "warn" }, stream) });
  await until(() => t.get("n-0020")?.reported !== undefined, "n-0020's report replayed");
  await raw.publishAsync("tf/report/n-0020", "R1 0 18 n-0022", { qos: 1 });
  await until(() => seen.filter((l) => l.reason !== undefined).length === 2, "2 bad inputs");
  expect(seen.filter((l) => l.reason !== undefined).map((l) => [l.reason, l.msg])).toEqual([
    [
      "spoofed-origin",
      "twins: bad input: stamp 17@n-0021: n-0021 is neither n-0020 nor upstream of it under the configs the broker holds now; a retained report, written maybe before those changed or were cleared (an earlier run's leftover, whose sources a --fresh run cleared), or spoofed",
    ],
    ["spoofed-origin", "twins: bad input: stamp 18@n-0022: n-0022 is neither n-0020 nor upstream of it"],
  ]);
});
