/**
 * The source files of the package's build (tsconfig.build.json), as tsc lists them: what dist/ is
 * made of, for the tests that check dist/ and for the suites' compiled copy (scripts/test-compiled.ts).
 */
import { join } from "node:path";
import ts from "typescript";

/** The build's sources under `root` (absolute paths), declaration files left out. */
export function buildSources(root: string): string[] {
  const host = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d: ts.Diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), {}, host);
  if (config === undefined) throw new Error("cannot read tsconfig.build.json");
  return config.fileNames.filter((f) => !f.endsWith(".d.ts"));
}
