/** SerialByKey: one key's tasks one after another, in order; other keys' meanwhile. */
import { describe, expect, it } from "vitest";
import { SerialByKey } from "../serial-by-key.js";

describe("tasks of one key", () => {
  it("run one after another, in the order they came, and a failed one does not stop the next", async () => {
    const w = new SerialByKey<string>();
    const log: string[] = [];
    let release = () => {};
    const first = w.run("a", async () => {
      log.push("a1 start");
      await new Promise<void>((r) => {
        release = r;
      });
      log.push("a1 end");
      throw new Error("refused");
    });
    const second = w.run("a", async () => {
      log.push("a2");
      return 2;
    });
    const other = w.run("b", async () => {
      log.push("b1");
      return 3;
    });
    await other;
    expect(log).toEqual(["a1 start", "b1"]);
    release();
    await expect(first).rejects.toThrow("refused");
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2"]);
  });
});
