// A fleet's thread started from the TypeScript sources (benches, or tests without the compiled copy
// of scripts/test-compiled.ts): the eval'd thread registers tsx itself and loads the module.
import { Worker } from "node:worker_threads";
import { afterEach, expect, it } from "vitest";
import { COMPILED_ENV } from "../../node/paths.js";
import { threadSource } from "../thread-source.js";

const before = process.env[COMPILED_ENV];
afterEach(() => {
  if (before !== undefined) process.env[COMPILED_ENV] = before;
});

it("starts a TypeScript thread module under tsx", async () => {
  delete process.env[COMPILED_ENV];
  const w = new Worker(threadSource("fleet/test/thread-fixture"), { eval: true });
  try {
    const said = await new Promise((resolve, reject) => {
      w.once("message", resolve);
      w.once("error", reject);
    });
    expect(said).toBe("started");
  } finally {
    await w.terminate();
  }
});
