// The web suite (`npm run test:web`): the page in Debian's Chromium (playwright-core, no browser
// download), also behind nginx, and Prometheus scraping /metrics, against a real `twinfleet sim
// --http`. Needs the Debian packages `chromium`, `prometheus`, `nginx` and `openssl`; a test fails
// naming them when they are missing.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL(".", import.meta.url)),
    include: ["web/test/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The sources compiled once for the processes the tests start (scripts/test-compiled.ts).
    globalSetup: ["scripts/test-compiled.ts"],
    // The busy-stream test collects garbage on purpose (web/test/browser/page.test.ts).
    execArgv: ["--expose-gc"],
    // One fleet and one browser at a time: each test file starts its own.
    fileParallelism: false,
  },
});
