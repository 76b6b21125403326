/**
 * The twins service's options (twins/options.ts): defaults filled, a bad field named.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_NODES, resolveTwinsOptions } from "../options.js";

describe("resolveTwinsOptions", () => {
  it("fills defaults, with a client id from the injected randomness", () => {
    const o = resolveTwinsOptions({ url: "mqtt://localhost:1883", random: () => 0.5 });
    expect(o).toMatchObject({
      prefix: "tf",
      clientId: "tf-twins-80000000",
      historyCapacity: 1024,
      maxNodes: DEFAULT_MAX_NODES,
      waitForBroker: false,
    });
  });

  it("names the bad field", () => {
    expect(() => resolveTwinsOptions({ url: "localhost" })).toThrow(/^options\.url must be a broker URL/);
    expect(() => resolveTwinsOptions({ url: "mqtt://h", prefix: "a/b" })).toThrow(
      /^options\.prefix: topic prefix/,
    );
    expect(() => resolveTwinsOptions({ url: "mqtt://h", historyCapacity: 0 })).toThrow(
      "options.historyCapacity must be at least 1",
    );
    expect(() => resolveTwinsOptions({ url: "mqtt://h", maxNodes: 0 })).toThrow(
      "options.maxNodes must be at least 1",
    );
    expect(() => resolveTwinsOptions({ url: "mqtt://h", resendHoldMs: 1.5 })).toThrow(
      "options.resendHoldMs must be an integer",
    );
    expect(() => resolveTwinsOptions({ url: "mqtt://h", waitForBroker: "yes" as never })).toThrow(
      "options.waitForBroker must be a boolean",
    );
    // An in-process wire waits too: its broker may be restarting (a virtual run's broker-restart).
    expect(
      resolveTwinsOptions({ url: "memory://run", wire: (() => {}) as never, waitForBroker: true })
        .waitForBroker,
    ).toBe(true);
  });
});
