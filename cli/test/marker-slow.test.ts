/**
 * A one-shot command whose replay marker is not back when the replay's wait ends: on a loaded host a
 * marker only slow was told as dropped by the broker's queue, with Mosquitto's queue advice, of a
 * broker that drops nothing. Now a second marker published behind it decides: passed by it, the
 * first was dropped; neither back, the broker or host is slow, unless it acknowledged them: a login
 * that may read `<prefix>/twins-probe/#` and not write it (Mosquitto drops such a publish after its
 * PUBACK) was told slow. A real broker on port 0 behind a proxy that holds back (or drops) the markers.
 */
import { afterEach, expect, it } from "vitest";
import { startTestBroker } from "../../twins/test/helpers.js";
import { startMarkerProxy } from "./marker-proxy.js";
import { runMain as run } from "./run-main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function behindProxy(mode: "hold" | "dropFirst" | "dropAll") {
  const broker = await startTestBroker();
  open.push(broker);
  const proxy = await startMarkerProxy(broker.port, mode);
  open.push(proxy);
  return proxy;
}

it("tells a marker held back (neither it nor a second back) as slow, without the queue's advice", async () => {
  const proxy = await behindProxy("hold");
  const { code, err } = await run("nodes", "--broker", proxy.url, "--wait", "300", "--prefix", "lab");
  expect(code).toBe(0);
  expect(proxy.markers()).toBeGreaterThanOrEqual(2);
  expect(err).toMatch(
    /warning: the broker at mqtt:\/\/127\.0\.0\.1:\d+ had not sent back the marker this command published after its subscriptions \(lab\/twins-probe\/…\/replay\) within \d+\.\d s, nor a second one published after it: the broker or this host is slow/,
  );
  expect(err).not.toContain("dropped");
  expect(err).not.toContain("max_queued");
});

it("tells a marker a second one passed as dropped, with the queue's advice", async () => {
  const proxy = await behindProxy("dropFirst");
  const { code, err } = await run("nodes", "--broker", proxy.url, "--wait", "300", "--prefix", "lab");
  expect(code).toBe(0);
  expect(err).toContain(
    "never sent back the marker this command published after its subscriptions (lab/twins-probe/…/replay), and sent back one published after it: it dropped it",
  );
  expect(err).toContain("set max_queued_messages 0 in mosquitto.conf");
});

it("tells markers the broker acknowledged and never sent back as a write this login may not make", async () => {
  const proxy = await behindProxy("dropAll");
  const { code, err } = await run("nodes", "--broker", proxy.url, "--wait", "300", "--prefix", "lab");
  expect(code).toBe(0);
  expect(proxy.markers()).toBeGreaterThanOrEqual(2);
  expect(err).toMatch(
    /warning: the broker at mqtt:\/\/127\.0\.0\.1:\d+ acknowledged the marker this command published after its subscriptions \(lab\/twins-probe\/…\/replay\), and a second one published after it, but sent neither back within \d+\.\d s: this login may not be allowed to write lab\/twins-probe\/…/,
  );
  expect(err).not.toContain("is slow");
  expect(err).not.toContain("max_queued_messages 0");
});
