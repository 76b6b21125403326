/**
 * A run's claim on its ids cleared on the broker mid-run (an empty retained message on its topic,
 * as a tool or another run's --fresh leaves it) is in the run's report (`claim`, written through
 * fleet/summarize.ts) and in `report show`: before, it was told in a log line alone, and a report
 * read afterwards said nothing of the ids unclaimed for a while. A merged report's shards' claims
 * (fleet/shard-claims.ts) are shown naming the shard of each.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { startBroker } from "../../broker/server.js";
import { client } from "../../broker/test/helpers.js";
import { claimProblem } from "../../fleet/shard-claims.js";
import { mergeShards } from "../../fleet/shard-merge.js";
import { fleetOfTwo, claimLost as lost, claimNone as none } from "../../fleet/test/ring-of-four.js";
import { claimLines } from "../claim-lines.js";
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

it("report show of the merged report says which shard lost what", async () => {
  const [s1, s2] = fleetOfTwo();
  const file = join(dir, "fleet.json");
  writeFileSync(
    file,
    JSON.stringify(
      mergeShards(
        ["a", "b"],
        [
          { ...s1, claim: none },
          { ...s2, claim: lost },
        ],
      ),
    ),
  );
  const out: string[] = [];
  const code = await main(["report", "show", file], {
    stdout: (s) => out.push(s),
    stderr: () => {},
    env: {},
  });
  expect(code).toBe(0);
  const text = out.join("");
  expect(text).toMatch(
    /claim not held shard 1: none all run: cleared on the broker before the claim step finished, waited 10\.0 s, then started without one \(fleet\/claim\/one\)/,
  );
  expect(text).toMatch(
    /claim lost +shard 2: .*\(cleared on the broker, its connection up\), held again 0\.3 s later/,
  );
  expect(text).toMatch(
    /claim lost +shard 2: .*\(its connection to the broker lost\), not held again by the end/,
  );
});

it("report show says a claim given up, cleared too often, and a shard report keeping one is whole", () => {
  const claim = {
    topic: "tf/claim/abc",
    losses: [
      { atMs: 2_000, why: "cleared" as const, gaveUp: { clears: 5, withinMs: 1_500 }, untilEndMs: 30_000 },
    ],
  };
  expect(claimLines({ claim })).toBe(
    "\n       claim lost     at 2.0 s (cleared on the broker, its connection up), given up, cleared 5 times in 1.5 s (something keeps clearing it): the ids unclaimed until the end (30.0 s)",
  );
  expect(claimProblem(claim)).toBeUndefined();
  expect(claimProblem({ ...claim, losses: [{ ...claim.losses[0], gaveUp: { clears: "5" } }] })).toMatch(
    /^claim\.losses\[0\] must have/,
  );
});
