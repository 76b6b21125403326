/**
 * A run's `/metrics` counts what its nodes drop, by reason, as the run goes: a real 3-node run
 * (FleetRun, ideal profile) with a stray client publishing bad payloads to a node's state topic.
 * Before, the drops were only in the report at the end: an operator scraping a long run saw nothing.
 */
import mqtt from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FleetRun } from "../../fleet/run.js";
import { DROP_REASONS } from "../../protocol/index.js";
import { simFigures } from "../../view/figures.js";
import { SimSource } from "../../view/sim-source.js";
import { WebMetrics } from "../metrics.js";
import { parsePrometheus, WAITING_TEST_MS, whenChanged } from "./helpers.js";

let run: FleetRun;
let source: SimSource;
let metrics: WebMetrics;

beforeAll(async () => {
  run = await FleetRun.start({
    nodes: 3,
    topology: "ring",
    groupSize: 3,
    ratePerNodePerMin: 0,
    durationS: 120,
    settleS: 0,
    workers: 1,
    profile: "ideal",
    progressEveryS: 0.5,
  });
  source = new SimSource(run);
  metrics = new WebMetrics(source, simFigures(run));
  await whenChanged(
    source,
    () => source.nodes().filter((n) => n.kind === "sim" && n.online && n.sync === "in-sync").length === 3,
    "3 nodes registered, online and in sync",
  );
}, WAITING_TEST_MS);

afterAll(async () => {
  metrics?.close();
  source?.close();
  run?.stop();
  run?.cut();
  await run?.done;
});

const scrape = async () => parsePrometheus(await metrics.text());
const drops = (s: Map<string, number>, reason: string) =>
  s.get(`twinfleet_node_drops_total{reason="${reason}"}`);

it(
  "counts the nodes' drops by reason while the run goes on, every reason served from the start",
  async () => {
    const before = await scrape();
    for (const reason of DROP_REASONS) expect(drops(before, reason), reason).toBeTypeOf("number");
    expect(drops(before, "bad-payload")).toBe(0);
    expect(before.get("twinfleet_node_packets_oversized_total")).toBe(0);

    const stray = await mqtt.connectAsync(run.brokerUrl, { clientId: "stray-tool", reconnectPeriod: 0 });
    try {
      for (let i = 0; i < 3; i++) await stray.publishAsync("tf/state/n-0000", "not json", { qos: 0 });
    } finally {
      await stray.endAsync();
    }
    let now = before;
    await whenChanged(
      source,
      () => {
        void scrape().then((s) => {
          now = s;
        });
        return (drops(now, "bad-payload") ?? 0) >= 3;
      },
      "3 bad-payload drops on /metrics",
    );
    expect(drops(now, "bad-payload")).toBe(3);
  },
  WAITING_TEST_MS,
);
