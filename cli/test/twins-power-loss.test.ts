/**
 * `twinfleet twins --data DIR` started again after a power loss that took it and its broker (on its
 * store) together: the presence the dead service left retained is its own predecessor's, not another
 * twins service's, while a genuinely different one on the fleet is still told.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { jsonFileStore, startTwins } from "../../twins/index.js";
import { changed, until } from "../../twins/test/helpers.js";
import { main } from "../main.js";

const open: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "twins-power-"));
  open.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("twinfleet twins after a power loss", () => {
  it("clears its dead predecessor's presence instead of warning of another twins service, and still warns of a real one", async () => {
    const brokerDir = await tempDir();
    const twinsDir = await tempDir();
    const before = await startBroker({ host: "127.0.0.1", port: 0, dataDir: brokerDir });
    const dead = await startTwins({ url: before.url, store: await jsonFileStore(twinsDir) });
    // Another twins service on the fleet, on another host: it outlives the outage and reconnects.
    const other = await startTwins({ url: before.url, clientId: "tf-twins-other" });
    open.push(() => other.close());
    await before.kill();
    await dead.kill();
    const after = await startBroker({ host: "127.0.0.1", port: before.port, dataDir: brokerDir });
    open.push(() => after.close());
    // The other is back (it reconnects every second); its presence is the one the store kept.
    const clients = (after.aedes as unknown as { clients: Record<string, unknown> }).clients;
    await expect.poll(() => clients["tf-twins-other"] !== undefined).toBe(true);
    let err = "";
    const running = main(["twins", "--broker", after.url, "--data", twinsDir], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
        changed();
      },
    });
    await until(
      () => err.includes("control this fleet") || err.includes("controls this fleet"),
      "the warning",
      10_000,
    );
    expect(err).toContain(
      `INFO  twins: cleared the presence of ${dead.clientId} (pid ${process.pid}, since `,
    );
    // The broker restarted within its will grace still held it, and the line says so.
    expect(err).toContain("the broker still held it");
    expect(err).toMatch(
      /WARN {2}twins: another twins service controls this fleet \(tf-twins-other since \S+\)/,
    );
    expect(err).not.toMatch(new RegExp(`control[s]? this fleet \\([^)]*${dead.clientId}`));
    process.emit("SIGINT");
    expect(await running).toBe(0);
  });
});
