// One rule for a --broker URL's path, query and fragment on every command: mqtt:// and mqtts://
// reach a host and port alone, so a path or a query there is a usage error naming what is wrong
// (the one-shot tools used to drop it without a word, where sim refused it); over ws:// the path and
// query are the HTTP request's and still reach the broker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../broker/index.js";
import { runCli } from "./auth-broker.js";

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({ host: "127.0.0.1", port: 0, wsPort: 0 });
});
afterAll(async () => {
  await broker.close();
});

const said = (scheme: string, what: string) =>
  `--broker: ${scheme}:// has no use for ${what}: MQTT over TCP or TLS reaches a host and port alone (a path or query is for ws:// and wss://), so give ${scheme}://host:port`;

describe("a --broker URL's path", () => {
  it.each([
    [["nodes"]],
    [["set", "n-1", "on"]],
    [["pair", "n-1", "n-2"]],
    [["forget", "n-1"]],
    [["monitor"]],
    [["twins"]],
    [["sim", "--headless"]],
    [["sweep"]],
  ])("is refused on mqtt:// by %j, exit 2, naming it", async (cmd) => {
    const r = await runCli([...cmd, "--broker", `mqtt://u:pa55word@127.0.0.1:${broker.port}/fleet`]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${said("mqtt", 'a path ("/fleet")')}, got "mqtt://127.0.0.1:${broker.port}/fleet"`,
    );
    expect(r.err).not.toContain("pa55word");
  });

  it("is refused with a query on mqtt://, a path on mqtts://, a fragment anywhere", async () => {
    const query = await runCli(["nodes", "--broker", `mqtt://127.0.0.1:${broker.port}?x=1`]);
    expect(query.code).toBe(2);
    expect(query.err).toContain(said("mqtt", 'a query ("?x=1")'));
    const tls = await runCli(["set", "n-1", "on", "--broker", "mqtts://127.0.0.1:8883/mqtt"]);
    expect(tls.code).toBe(2);
    expect(tls.err).toContain(said("mqtts", 'a path ("/mqtt")'));
    const fragment = await runCli(["nodes", "--broker", `ws://127.0.0.1:${broker.wsPort}/mqtt#x`]);
    expect(fragment.code).toBe(2);
    expect(fragment.err).toContain(
      '--broker: a URL\'s #fragment is never sent to the broker: leave out "#x"',
    );
  });

  it("is taken on mqtt:// when it is a bare /, and on ws:// with a query too", async () => {
    // Connected and asked: an empty broker's answer, not a usage error.
    const empty = "no node on the broker under prefix tf";
    const slash = await runCli(["nodes", "--broker", `mqtt://127.0.0.1:${broker.port}/`, "--wait", "100"]);
    expect(slash.err).toContain(empty);
    const ws = await runCli([
      "nodes",
      "--broker",
      `ws://127.0.0.1:${broker.wsPort}/mqtt?x=1`,
      "--wait",
      "100",
    ]);
    expect(ws.err).toContain(empty);
  });
});
