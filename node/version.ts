/**
 * The version, read once, so that reports and `--version` agree: package.json's version with the
 * build's identity (node/build-id.ts), which dist/build-id.json records at build time. It lives
 * beside `packageRoot` so that every layer (the fleet's report, the CLI) can read it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildVersion, readBuildInfo } from "./build-id.js";
import { packageRoot } from "./paths.js";

const pkg: { version?: unknown } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8"));
/** package.json's version alone (0.1.0): what orders releases. */
export const PACKAGE_VERSION: string = typeof pkg.version === "string" ? pkg.version : "0.0.0";
/** dist/build-id.json, from dist/node/version.js; the sources (version.ts, run by tsx) are no build. */
const recorded = new URL("../build-id.json", import.meta.url);
export const VERSION: string = buildVersion(
  PACKAGE_VERSION,
  import.meta.url.endsWith(".js") ? readBuildInfo(recorded) : undefined,
);
