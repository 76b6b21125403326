import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "{protocol,node,sim,twins,broker,fleet,sweep,view,web,cli,console,profiles,bench}/**/*.test.ts",
      "layering.test.ts",
      "switches.test.ts",
      "time.test.ts",
    ],
    // The browser suite needs Chromium and Prometheus: `npm run test:web` (vitest.web.config.ts).
    exclude: [...configDefaults.exclude, "web/test/browser/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
