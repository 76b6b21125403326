// A one-shot command under a login that may read `tf/#` but not write `tf/twins-probe/#` (a read-only
// operator; here it may write the statuses the test leaves): Mosquitto acknowledges the replay
// markers it publishes there and drops them, and `twinfleet nodes` said the broker or the host was
// slow. It now says the login may not be allowed to write there, and lists what it read.
import mqtt from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { type Mosquitto, startMosquitto } from "../mosquitto.js";

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ acl: ["topic read tf/#", "topic write tf/status/#"] });
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  for (let i = 0; i < 5; i++) await c.publishAsync(`tf/status/ro-${i}`, "T1 0", { qos: 1, retain: true });
  await c.endAsync();
});
afterAll(async () => {
  await broker?.close();
});

it("tells a read-only login's replay markers as a write it may not make, and lists the nodes", async () => {
  let out = "";
  let err = "";
  const code = await main(["nodes", "--broker", broker.url, "--wait", "300"], {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
  });
  expect(code, err).toBe(0);
  expect((JSON.parse(out) as { id: string }[]).map((n) => n.id).sort()).toEqual([
    "ro-0",
    "ro-1",
    "ro-2",
    "ro-3",
    "ro-4",
  ]);
  expect(err).toContain(
    "acknowledged the marker this command published after its subscriptions (tf/twins-probe/…/replay), and a second one published after it, but sent neither back within",
  );
  expect(err).toContain("this login may not be allowed to write tf/twins-probe/…");
  expect(err).not.toContain("is slow");
});
