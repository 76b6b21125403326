/**
 * The code an eval'd worker thread runs to start one of the fleet's thread modules: JavaScript from
 * dist/, or TypeScript under tsx (tests, benches), registering tsx in the thread first (an eval'd
 * worker does not run the parent's `--import` preloads).
 */

/** `module`: the thread's module, relative to fleet/ and without its extension (`../broker/worker`). */
export function threadSource(module: string): string {
  const here = import.meta.url;
  const ts = here.endsWith(".ts");
  const entry = JSON.stringify(new URL(`${module}.${ts ? "ts" : "js"}`, here).href);
  if (!ts) return `import(${entry})`;
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  return `import(${tsx}).then((t) => t.register()).then(() => import(${entry}))`;
}
