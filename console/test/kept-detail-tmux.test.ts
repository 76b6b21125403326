/**
 * `twinfleet monitor --broker` in tmux beside a twins service that keeps a set for an offline node
 * (twins/kept-sets.ts): the grid marked the node `!`, and its detail pane said nothing of the set.
 * It now names the set and the service that keeps it.
 */
import { afterAll, expect, it } from "vitest";
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

it("names the set another twins service keeps for the node in the monitor's node detail", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const service = watchTwins(await startTwins({ url: broker.url }));
  open.push(service);
  const a = await startNode(broker.url, "A");
  await until(() => service.get("A")?.presence === "online", "A online");
  await a.stop();
  await until(() => service.get("A")?.presence === "offline", "A offline");
  await service.set("A", true);

  term.start(`${cliCommand()} monitor --broker ${broker.url}; echo "EXIT=$?"; sleep 120`, 120, 30);
  // The grid's one cell: `!`, an offline node a set waits for (the legend's `! waits` follows a space).
  await term.waitFor(
    "the node marked as waiting for a set",
    (s) => (/│!/.test(s) ? true : undefined),
    60_000,
  );
  term.keys("Enter");
  const screen = await term.waitFor(
    "the detail naming the kept set",
    (s) => (s.includes(`kept by ${service.clientId}`) ? s : undefined),
    60_000,
  );
  expect(screen).toContain("set on waits");
  term.keys("q");
  await term.waitFor("the monitor closed", (s) => (s.includes("EXIT=0") ? true : undefined), 60_000);
}, 240_000);
