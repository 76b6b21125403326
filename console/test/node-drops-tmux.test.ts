/**
 * `twinfleet sim --broker` in tmux with a stray client publishing bad payloads to a node's state
 * topic: the node's detail pane showed its link counters and nothing of what it dropped, so the
 * console of a run losing input to a bad publisher looked clean. It now says `dropped N` beside them
 * (every drop but the `stale` echoes a pairing cycle ends with).
 */
import mqtt from "mqtt";
import { afterAll, expect, it } from "vitest";
import { cliCommand } from "../../node/test/cli-command.js";
import { startTestBroker } from "../../twins/test/helpers.js";
import { TmuxSession } from "./tmux.js";

const term = new TmuxSession();
const open: { close(): Promise<unknown> }[] = [];
afterAll(async () => {
  term.kill();
  for (const o of open.splice(0).reverse()) await o.close();
});

it("shows a node's dropped bad input in its detail pane, beside its link counters", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  term.start(
    `${cliCommand()} sim --broker ${broker.url} --nodes 2 --group-size 2 --profile ideal --rate 0 --settle 1 --workers 1; echo "EXIT=$?"; sleep 120`,
    100,
    40,
  );
  await term.waitFor("the press phase", (s) => (s.includes("phase: press") ? true : undefined), 60_000);
  term.keys("Enter");
  const clean = await term.waitFor("n-0000's detail", (s) => (/retx \d+ t\/o/.test(s) ? s : undefined));
  expect(clean).not.toContain("dropped");

  const stray = await mqtt.connectAsync(broker.url, { clientId: "stray-tool", reconnectPeriod: 0 });
  for (let i = 0; i < 3; i++) await stray.publishAsync("tf/state/n-0000", "garbage{", { qos: 0 });
  await stray.endAsync();
  const screen = await term.waitFor(
    "the drops in n-0000's detail",
    (s) => (/reconn \d+ dropped 3/.test(s) ? s : undefined),
    60_000,
  );
  expect(screen).toContain("n-0000");
  term.keys("q");
  await term.waitFor("the run closed", (s) => (s.includes("EXIT=") ? true : undefined), 60_000);
}, 240_000);
