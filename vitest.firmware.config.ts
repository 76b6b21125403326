// The firmware's vitest suite (run by firmware/test.sh after the build, not by `npm test`): tests
// that need the C++ build, such as the host stand-ins in a mixed fleet.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["firmware/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The sources compiled once for the threads the mixed fleet starts (scripts/test-compiled.ts).
    globalSetup: ["scripts/test-compiled.ts"],
  },
});
