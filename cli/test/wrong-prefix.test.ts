/**
 * A one-shot command under a prefix the broker holds no node under (a typo, another lab's prefix)
 * used to print `[]` (nodes) or `no node "A" on the broker` (set, forget) of a node there under
 * another prefix. Now it names the prefixes the broker holds nodes under. A real broker on port 0.
 */
import { afterEach, expect, it } from "vitest";
import { startNode, startTestBroker } from "../../twins/test/helpers.js";
import { runMain as run } from "./run-main.js";

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

it("names the prefix the broker holds the fleet under when the command's holds none", async () => {
  const broker = await startTestBroker();
  open.push(broker);
  const a = await startNode(broker.url, "A");
  open.push({ close: () => a.stop() });
  const at = ["--broker", broker.url, "--wait", "200"];
  const hint =
    "it holds nodes under another prefix: tf (1 node, 1 online): give --prefix tf if that is the fleet";
  expect(await run("nodes", ...at, "--prefix", "lab")).toMatchObject({
    code: 0,
    out: "[]\n",
    err: `twinfleet nodes: no node on the broker under prefix lab; ${hint}\n`,
  });
  expect(await run("set", "A", "on", ...at, "--prefix", "lab")).toMatchObject({
    code: 1,
    err: `twinfleet set: no node "A" on the broker under prefix lab; ${hint}\n`,
  });
  expect(await run("forget", "A", ...at, "--prefix", "lab")).toMatchObject({
    code: 1,
    err: `twinfleet forget: no node A on the broker under prefix lab; ${hint}\n`,
  });
  // Under the fleet's own prefix nothing more is said.
  const listed = await run("nodes", ...at);
  expect(listed).toMatchObject({ code: 0, err: "" });
  expect(JSON.parse(listed.out)).toHaveLength(1);
});
