// Mosquitto forwards a retained write to its subscribers, the writer among them, before it sends
// the writer its PUBACK. The twins service watches each retained write for its echo (a write the
// broker acknowledged and dropped is told, twins/retained-echo.ts); it used to start watching at
// the PUBACK, after the echo had come, and told configs the broker held as dropped (10 of 12
// written for offline nodes, measured on Mosquitto 2.0.11).
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { ECHO_WAIT_MS } from "../../twins/retained-echo.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { twinsFigures } from "../../view/figures.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { retained } from "./helpers.js";

let broker: Mosquitto;
const fx = new Fixtures();
beforeAll(async () => {
  broker = await startMosquitto();
  fx.url = broker.url;
});
afterEach(() => fx.close());
afterAll(async () => {
  await broker?.close();
});

it("configs written for offline nodes, echoed ahead of their PUBACKs, are not told as dropped", async () => {
  const lines: string[] = [];
  const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
  const t = await fx.twins({ logger });
  const figures = twinsFigures(t, () => performance.now());
  const ids = Array.from({ length: 12 }, (_, i) => `echo-${i}`);
  for (const id of ids) expect((await t.pair(id, "echo-src")).sent).toBe(true);
  const held = await retained(broker.url, "tf/config/+");
  for (const id of ids) expect(held.get(`tf/config/${id}`)?.payload).toBe("C1 1 echo-src");
  // Past the wait for an echo: nothing was dropped, so nothing is told.
  await new Promise((r) => setTimeout(r, ECHO_WAIT_MS + 1_500));
  expect(lines.filter((l) => l.includes("retained write"))).toEqual([]);
  expect(figures.brokerDropped?.()).toEqual({ "retained-write": 0, "to-clients": 0 });
}, 30_000);
