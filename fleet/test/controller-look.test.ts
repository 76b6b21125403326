/**
 * The run's look for a twins service already on someone else's broker: an unfinished look is made
 * again with more time, and one still unfinished stops the run instead of letting it start a
 * second controller.
 */
import { describe, expect, it } from "vitest";
import { connectTimeoutError, PresenceLookUnfinished, type TwinsServiceInfo } from "../../twins/index.js";
import { LOOK_AGAIN_MS, LOOK_MS, lookForControllers } from "../controller-look.js";

const live: TwinsServiceInfo[] = [{ clientId: "tf-twins-live", since: 1 }];

describe("lookForControllers", () => {
  it("takes a finished first look as it is", async () => {
    const asked: number[] = [];
    const warned: string[] = [];
    const found = await lookForControllers(
      async (ms) => {
        asked.push(ms);
        return [];
      },
      (l) => warned.push(l),
    );
    expect(found).toEqual([]);
    expect(asked).toEqual([LOOK_MS]);
    expect(warned).toEqual([]);
  });

  it("looks again with more time when the broker did not finish the first, and finds the service", async () => {
    const asked: number[] = [];
    const warned: string[] = [];
    const found = await lookForControllers(
      async (ms) => {
        asked.push(ms);
        if (ms === LOOK_MS) throw new PresenceLookUnfinished("mqtt://lab:1883", ms);
        return live;
      },
      (l) => warned.push(l),
    );
    expect(found).toEqual(live);
    expect(asked).toEqual([LOOK_MS, LOOK_AGAIN_MS]);
    expect(warned).toEqual([
      "the broker at mqtt://lab:1883 did not answer the look for twins services within 1.0 s (its marker never came back): whether one is on it is unknown; looking again for up to 10 s before the run starts a controller of its own",
    ]);
  });

  it("stops the run when the second look is unfinished too, and passes other errors on", async () => {
    await expect(
      lookForControllers(
        async (ms) => {
          throw new PresenceLookUnfinished("mqtt://lab:1883", ms);
        },
        () => {},
      ),
    ).rejects.toThrow(
      "cannot tell whether a twins service already controls the fleet: the broker at mqtt://lab:1883 did not answer the look for twins services within 10.0 s (its marker never came back): whether one is on it is unknown; the run does not start a controller that could be a second one beside it (a broker this busy would also set the run's pace)",
    );
    // Never reached (nothing answered at its address): told as such, not as a busy broker.
    await expect(
      lookForControllers(
        async (ms) => {
          throw new PresenceLookUnfinished(
            "mqtt://lab:1883",
            ms,
            connectTimeoutError("mqtt://lab:1883", ms, { at: "connecting", address: "lab:1883 (10.0.0.9)" }),
          );
        },
        () => {},
      ),
    ).rejects.toThrow(
      /^cannot reach the broker at mqtt:\/\/lab:1883: could not connect to lab:1883 \(10\.0\.0\.9\) within 10 s \(nothing answered: the host is down or unreachable, or a firewall drops the connection\)$/,
    );
    await expect(
      lookForControllers(
        async () => {
          throw new Error("connection refused");
        },
        () => {},
      ),
    ).rejects.toThrow("connection refused");
  });
});
