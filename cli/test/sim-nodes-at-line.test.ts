/**
 * `twinfleet sim --broker` with a host name says in its start line where the nodes connect: the
 * addresses the name named at the start, which the nodes hold all run (fleet/broker-address.ts).
 * Before, that was said at --log-level debug alone, and the start line gave only the URL.
 */
import { lookup } from "node:dns/promises";
import { expect, it } from "vitest";
import { startBroker } from "../../broker/server.js";
import { main } from "../main.js";

it("says where the nodes connect for a broker name, and nothing more for an address", async () => {
  const broker = await startBroker({ host: "127.0.0.1", port: 0 });
  try {
    const { port } = new URL(broker.url);
    const named = (await lookup("localhost", { all: true })).map((a) =>
      a.family === 6 ? `[${a.address}]` : a.address,
    );
    const run = async (url: string) => {
      const err: string[] = [];
      const args = [
        "sim",
        "--broker",
        url,
        "--nodes",
        "2",
        "--headless",
        "--duration",
        "2",
        "--settle",
        "0.5",
      ];
      const code = await main([...args, "--report", "-"], {
        stdout: () => {},
        stderr: (s) => err.push(s),
        env: {},
      });
      return {
        code,
        start:
          err
            .join("")
            .split("\n")
            .find((l) => l.includes("presses/node/min")) ?? "",
      };
    };
    const byName = await run(`mqtt://localhost:${port}`);
    // The run connects only where localhost's first address is the broker's: 127.0.0.1 here.
    expect(named[0]).toBe("127.0.0.1");
    expect(byName.start).toContain(
      `, broker mqtt://localhost:${port}, nodes connect to ${[...new Set(named)].map((a) => `${a}:${port}`).join(" and ")} (localhost)`,
    );
    const byAddress = await run(broker.url);
    expect(byAddress.start).toMatch(new RegExp(`broker ${broker.url.replace(/\./g, "\\.")}$`));
    expect(byAddress.start).not.toContain("nodes connect to");
  } finally {
    await broker.close();
  }
}, 120_000);
