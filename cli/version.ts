/**
 * The package version, read once from package.json, so that reports and `--version` agree.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../node/paths.js";

const pkg: { version?: unknown } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8"));
export const VERSION: string = typeof pkg.version === "string" ? pkg.version : "0.0.0";
