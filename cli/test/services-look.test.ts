/**
 * The one-shot commands' word on the twins services of the fleet when their look at the presences
 * cannot finish (its marker held back: a slow link, a busy broker). It used to read as none found:
 * `twinfleet pair` on an offline node said no twins service ran and nothing would re-send the pairing,
 * beside the running service that re-sends it.
 */
import { type AddressInfo, connect, createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startTwins } from "../../twins/index.js";
import { startNode, startTestBroker, until, watchTwins } from "../../twins/test/helpers.js";
import { runMain as run } from "./run-main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** A proxy to `port` that passes everything but what the broker sends carrying `held`, which it keeps. */
async function holdingProxy(port: number, held: string): Promise<string> {
  const server: Server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    client.on("data", (c: Buffer) => upstream.write(c));
    upstream.on("data", (c: Buffer) => {
      if (!c.includes(held)) client.write(c);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("the one-shot commands beside a twins service they cannot see", () => {
  it("say whether one runs is not known, not that none runs", async () => {
    const broker = await startTestBroker();
    open.push(broker);
    const service = watchTwins(await startTwins({ url: broker.url }));
    open.push(service);
    for (const id of ["A", "C"]) {
      const n = await startNode(broker.url, id);
      await until(() => service.get(id)?.presence === "online", `${id} online`);
      await n.stop();
      await until(() => service.get(id)?.presence === "offline", `${id} offline`);
    }
    const B = await startNode(broker.url, "B");
    open.push({ close: () => B.stop() });
    const slow = await holdingProxy(Number(new URL(broker.url).port), "tf/control-probe/");

    const paired = await run("pair", "A", "B", "--broker", slow, "--wait", "300");
    expect(paired.code).toBe(0);
    expect(paired.err).toContain("A is offline: the pairing is pending until it returns");
    expect(paired.err).not.toContain("No twins service runs on this fleet");
    expect(paired.err).toContain("Whether a twins service runs on this fleet is not known (the broker at");
    expect(paired.err).toContain("a running one sends it the pairing when it returns");

    const set = await run("set", "A", "on", "--broker", slow, "--wait", "300");
    expect(set.code).toBe(1);
    expect(set.err).not.toContain("no twins service runs on this fleet");
    expect(set.err).toContain("whether a twins service runs on this fleet to keep it is not known");

    const forgot = await run("forget", "C", "--broker", slow, "--wait", "300");
    expect(forgot.code).toBe(0);
    expect(forgot.err).not.toContain("no twins service runs on this fleet");
    expect(forgot.err).toContain("C forgotten; whether a twins service runs on this fleet is not known");
    // The service itself was told all the same.
    await until(() => service.get("C") === undefined, "the service forgot C");
  });
});
