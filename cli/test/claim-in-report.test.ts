/**
 * A run's claim on its ids cleared on the broker mid-run (an empty retained message on its topic,
 * as a tool or another run's --fresh leaves it) is in the run's report (`claim`, written through
 * fleet/summarize.ts) and in `report show`: before, it was told in a log line alone, and a report
 * read afterwards said nothing of the ids unclaimed for a while.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { startBroker } from "../../broker/server.js";
import { client } from "../../broker/test/helpers.js";
import { main } from "../main.js";

const dir = mkdtempSync(join(tmpdir(), "tf-claim-in-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]) {
  const out: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: () => {}, env: {} };
  const code = await main(argv, io);
  return { code, out: out.join("") };
}

it("keeps a claim cleared mid-run in the report, and report show says so", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0 });
  const tool = await client(broker.url);
  try {
    // The run's claim, cleared once its nodes are online (the claim is held from before their boot).
    let topic: string | undefined;
    let cleared = false;
    tool.on("message", (t, payload) => {
      if (t.startsWith("tf/claim/") && payload.length > 0) topic ??= t;
      if (t.startsWith("tf/status/") && payload.toString() === "T1 1" && topic !== undefined && !cleared) {
        cleared = true;
        tool.publish(topic, "", { qos: 1, retain: true });
      }
    });
    await tool.subscribeAsync(["tf/claim/+", "tf/status/+"], { qos: 1 });
    const file = join(dir, "r.json");
    const args = ["sim", "--broker", broker.url, "--nodes", "2", "--headless", "--duration", "3"];
    const ran = await run([...args, "--settle", "1", "--report", file]);
    expect(ran.code).toBe(0);
    expect(cleared).toBe(true);
    const report = JSON.parse(readFileSync(file, "utf8"));
    expect(report.claim.topic).toBe(topic);
    expect(report.claim.losses).toHaveLength(1);
    expect(report.claim.losses[0]).toMatchObject({ why: "cleared" });
    const shown = await run(["report", "show", file]);
    expect(shown.out).toMatch(
      /claim lost +(at|in the boot).* \(cleared on the broker, its connection up\), /,
    );
  } finally {
    await tool.endAsync(true);
    await broker.close();
  }
}, 120_000);
