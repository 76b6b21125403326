/**
 * Where the package's own files are — profiles, vectors, package.json — whether the code runs from
 * the TypeScript sources or from the compiled dist/ tree.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The directory holding twinfleet's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the twinfleet sources");
    dir = up;
  }
  root = dir;
  return dir;
}
