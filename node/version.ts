/**
 * The package version, read once from package.json, so that reports and `--version` agree. It lives
 * beside `packageRoot` so that every layer (the fleet's report, the CLI) can read it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./paths.js";

const pkg: { version?: unknown } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8"));
export const VERSION: string = typeof pkg.version === "string" ? pkg.version : "0.0.0";
