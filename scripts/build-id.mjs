#!/usr/bin/env node
// After `tsc -p tsconfig.build.json` (`npm run build`, and `npm ci`'s prepare): records which build
// this is in dist/build-id.json — the commit and its date from git, or, without git (sources from a
// tarball), the build's own time — read by dist/node/version.js for `--version`, reports and logs.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildVersion, gitBuildInfo } from "../dist/node/build-id.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const info = gitBuildInfo(root) ?? { builtAt: new Date().toISOString().replace(/[-:]|\.\d+/g, "") };
writeFileSync(join(root, "dist", "build-id.json"), `${JSON.stringify(info)}\n`);
console.log(`twinfleet ${buildVersion(pkg.version, info)}`);
