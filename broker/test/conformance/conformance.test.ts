/**
 * Runs the MQTT 3.1.1 conformance table (table.ts): one test per row, named by its clause, each
 * against a fresh `startBroker({ port: 0 })` over real TCP sockets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type RunningBroker, startBroker } from "../../server.js";
import { runRow } from "./runner.js";
import { TABLE } from "./table.js";

describe("MQTT 3.1.1 conformance", () => {
  let broker: RunningBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it("has at least 60 rows", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
  });

  for (const row of TABLE) {
    it(`${row.clause}: ${row.title}`, async () => {
      broker = await startBroker({ port: 0, host: "127.0.0.1", ...row.broker });
      await runRow(row, broker.port);
    });
  }
});
