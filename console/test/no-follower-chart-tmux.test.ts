/**
 * `twinfleet monitor --broker` in tmux over a fleet whose nodes all went: the header said `in sync:
 * no follower online to judge` while the convergence chart went on plotting the last-heard 100 %.
 * The chart now draws a band there, with `no follower online` on its time axis.
 */
import { afterAll, expect, it } from "vitest";
import type { CoreClient } from "../../node/mqtt-node.js";
import { cliCommand } from "../../node/test/cli-command.js";
import { startTwins } from "../../twins/index.js";
import { startNode, startTestBroker, until, watchTwins } from "../../twins/test/helpers.js";
import { TmuxSession } from "./tmux.js";

const term = new TmuxSession();
const open: { close(): Promise<unknown> }[] = [];
afterAll(async () => {
  term.kill();
  for (const o of open.splice(0).reverse()) await o.close();
});

it("draws a band, not the last-heard share, once no follower is online", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const service = watchTwins(await startTwins({ url: broker.url }));
  open.push(service);
  const nodes: CoreClient[] = [];
  for (const id of ["A", "B"]) nodes.push(await startNode(broker.url, id));
  await until(
    () => service.get("B")?.presence === "online" && service.get("A")?.presence === "online",
    "A and B online",
  );
  await service.pair("B", "A");
  await until(() => service.get("B")?.follows.length === 1, "B follows A");

  term.start(`${cliCommand()} monitor --broker ${broker.url}; echo "EXIT=$?"; sleep 120`, 120, 30);
  // The follower judged while it is online (in sync or not: B has taken nothing of A yet).
  await term.waitFor(
    "the follower judged",
    (s) => (/in sync \d+\.\d% \d+\/1/.test(s) ? true : undefined),
    60_000,
  );
  const before = term.screen();
  expect(before).not.toContain("no follower online");
  for (const n of nodes) await n.stop();
  const screen = await term.waitFor(
    "the chart's band and its legend",
    (s) => (s.includes("░ no follower online") ? s : undefined),
    60_000,
  );
  expect(screen.split("\n")[0]).toContain("in sync: no follower online to judge");
  term.keys("q");
  await term.waitFor("the monitor closed", (s) => (s.includes("EXIT=0") ? true : undefined), 60_000);
}, 240_000);
