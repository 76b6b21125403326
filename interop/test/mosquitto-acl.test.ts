// Twinfleet on a Mosquitto whose ACL gives the control login no write on `tf/config/#`: Mosquitto
// acknowledges a denied publish (MQTT 3.1.1 has no negative PUBACK) and drops it. `twinfleet pair`
// on an offline node used to say "its retained config was written" and exit 0, and a standalone
// service said nothing, of a config the broker never held.
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { Fixtures } from "../../twins/test/helpers.js";
import { twinsFigures } from "../../view/figures.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";
import { retained, until } from "./helpers.js";

// Anonymous clients (the lines before any `user`) may read everything, and write all that a control
// server writes but the configs.
const ACL = [
  "topic read tf/#",
  "topic write tf/state/#",
  "topic write tf/subscribe/#",
  "topic write tf/unsubscribe/#",
  "topic write tf/query",
  "topic write tf/report/#",
  "topic write tf/control/#",
  "topic write tf/control-probe/#",
  "topic readwrite tf/twins-probe/#",
  "topic readwrite interop/#",
];

let broker: Mosquitto;
const fx = new Fixtures();
beforeAll(async () => {
  broker = await startMosquitto({ acl: ACL });
  fx.url = broker.url;
});
afterEach(() => fx.close());
afterAll(async () => {
  await broker?.close();
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe("a Mosquitto ACL that denies the control login's config writes", () => {
  it("twinfleet pair on an offline node fails, naming the topic and the login, instead of saying the config was written", async () => {
    const r = await run("pair", "acl-f", "acl-s", "--broker", broker.url, "--wait", "300");
    expect((await retained(broker.url, "tf/config/+")).has("tf/config/acl-f")).toBe(false);
    expect(r.err).not.toContain("its retained config was written");
    expect(r.err).toContain(
      "acknowledged the config written for acl-f (version 1) but did not deliver it back within 1000 ms: it did not keep it, and the pairing is not written. Do its access rules let an anonymous login write tf/config/acl-f?",
    );
    expect(r.code).toBe(1);
  });

  it("the twins service warns of the config it wrote for an offline node that the broker dropped", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(JSON.parse(l).msg) });
    const t = await fx.twins({ logger });
    const figures = twinsFigures(t, () => performance.now());
    const outcome = await t.pair("acl-g", "acl-s");
    expect(outcome.sent).toBe(true);
    await until(() => lines.some((l) => l.includes("tf/config/acl-g")), "the warning", 15_000);
    expect(lines.find((l) => l.includes("tf/config/acl-g"))).toMatch(
      /acknowledged a retained write \(tf\/config\/acl-g\) but did not deliver it back in 10 s: it dropped it, or it is that far behind \(a busy host at a large fleet.s start\)\. Do its access rules let an anonymous login write there\?/,
    );
    // And counted, for /metrics (twinfleet_twins_broker_dropped_total{what="retained-write"}).
    expect(figures.brokerDropped?.()).toEqual({ "retained-write": 1, "to-clients": 0 });
  }, 30_000);
});
