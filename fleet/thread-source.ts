/**
 * The code an eval'd worker thread runs to start one of the package's thread modules: JavaScript from
 * dist/ (or a compiled copy of the sources, node/paths.ts), or TypeScript under tsx (tests, benches),
 * registering tsx in the thread first (an eval'd worker does not run the parent's `--import` preloads).
 */
import { startable } from "../node/paths.js";

/** `module`: the thread's module, from the code's root and without its extension (`broker/worker`). */
export function threadSource(module: string): string {
  const m = startable(module);
  const entry = JSON.stringify(m.url.href);
  if (!m.ts) return `import(${entry})`;
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  return `import(${tsx}).then((t) => t.register()).then(() => import(${entry}))`;
}
