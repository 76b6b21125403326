/**
 * `npm run typecheck`: the compiler's check of the whole tree (tsconfig.json, no output but the
 * incremental build info under node_modules/.cache), then the exhaustive-switch check
 * (`scripts/switches.ts`) on the same program, so the tree is type-checked once. Prints what `tsc`
 * would, then the switches not checked; exits 1 on either.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { switchProblems } from "./switches.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BUILD_INFO = join(ROOT, "node_modules/.cache/twinfleet/typecheck.tsbuildinfo");

const host: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => ROOT,
  getNewLine: () => "\n",
};

const config = ts.getParsedCommandLineOfConfigFile(
  join(ROOT, "tsconfig.json"),
  { noEmit: true, incremental: true, tsBuildInfoFile: BUILD_INFO },
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      process.stderr.write(ts.formatDiagnostic(d, host));
      process.exit(1);
    },
  },
);
if (!config) process.exit(1);

const builder = ts.createIncrementalProgram({
  rootNames: config.fileNames,
  options: config.options,
  configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
  projectReferences: config.projectReferences,
});
const diagnostics = [
  ...builder.getConfigFileParsingDiagnostics(),
  ...builder.getOptionsDiagnostics(),
  ...builder.getGlobalDiagnostics(),
  ...builder.getSyntacticDiagnostics(),
  ...builder.getSemanticDiagnostics(),
];
// With noEmit this writes only the build info, which lets the next run skip unchanged files.
builder.emit();
if (diagnostics.length > 0) process.stdout.write(ts.formatDiagnostics(diagnostics, host));

const switches = switchProblems(builder.getProgram(), ROOT);
if (switches.length > 0)
  process.stdout.write(
    `switches not checked for exhaustiveness (scripts/switches.ts):\n${switches.map((s) => `  ${s}\n`).join("")}`,
  );
process.exitCode = diagnostics.length > 0 || switches.length > 0 ? 1 : 0;
