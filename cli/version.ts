/**
 * The package version, read once from the nearest package.json (from the sources or from dist/), so
 * that reports and `--version` agree.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function packageJsonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above the twinfleet sources");
    dir = up;
  }
  return join(dir, "package.json");
}

const pkg: { version?: unknown } = JSON.parse(readFileSync(packageJsonPath(), "utf8"));
export const VERSION: string = typeof pkg.version === "string" ? pkg.version : "0.0.0";
