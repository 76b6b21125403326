// The interop suite (`npm run test:interop`): the fleet runner and the twins service against a
// real Mosquitto process, a 3-member NATS cluster and three brokers sharing Redis, which must be
// installed (Debian packages `mosquitto`, `nats-server` and `redis-server`; docs/cluster.md).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["interop/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The sources compiled once for the processes the tests start (scripts/test-compiled.ts).
    globalSetup: ["scripts/test-compiled.ts"],
  },
});
