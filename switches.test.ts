/**
 * Exhaustive switches, enforced: every `switch` on a union of literals (a message kind, an event
 * type, a mode) ends in `default: assertNever(x)` — which compiles only when every member has its
 * case — or in a deliberate catch-all for the members it leaves out, which must then leave some out.
 * A new member of a union therefore fails the type check wherever it is not handled. Biome's own
 * rule (useExhaustiveSwitchCases) reads narrowing less well than the compiler, hence this check.
 */
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = dirname(fileURLToPath(import.meta.url));
/** Folders whose switches are not checked yet: the twins service is being reorganized by concern. */
const NOT_YET: string[] = [];

function isLiteralUnion(t: ts.Type): boolean {
  const parts = t.isUnion() ? t.types : [t];
  return parts.every((p) => p.isLiteral() || (p.flags & ts.TypeFlags.BooleanLiteral) !== 0);
}

function callsAssertNever(clause: ts.DefaultClause): boolean {
  return clause.statements.some(
    (s) =>
      (ts.isExpressionStatement(s) || ts.isReturnStatement(s) || ts.isThrowStatement(s)) &&
      s.expression !== undefined &&
      ts.isCallExpression(s.expression) &&
      s.expression.expression.getText() === "assertNever",
  );
}

/** Whether every member of the discriminant's union has a case. */
function covered(tc: ts.TypeChecker, sw: ts.SwitchStatement, t: ts.Type): boolean {
  const members = new Set((t.isUnion() ? t.types : [t]).map((m) => tc.typeToString(m)));
  for (const c of sw.caseBlock.clauses) {
    if (ts.isCaseClause(c)) members.delete(tc.typeToString(tc.getTypeAtLocation(c.expression)));
  }
  return members.size === 0;
}

function problems(): string[] {
  const cfg = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!cfg) throw new Error("tsconfig.json could not be read");
  const program = ts.createProgram(cfg.fileNames, cfg.options);
  const tc = program.getTypeChecker();
  const out: string[] = [];
  for (const sf of program.getSourceFiles()) {
    const file = relative(ROOT, sf.fileName).split(sep).join("/");
    if (file.startsWith("..") || file.includes("node_modules/") || NOT_YET.some((f) => file.startsWith(f)))
      continue;
    const visit = (n: ts.Node): void => {
      if (ts.isSwitchStatement(n)) {
        const t = tc.getTypeAtLocation(n.expression);
        if (isLiteralUnion(t)) {
          const at = `${file}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1} switch (${n.expression.getText()})`;
          const def = n.caseBlock.clauses.find(ts.isDefaultClause);
          if (!def) out.push(`${at} has no default: end it with \`default: assertNever(...)\``);
          else if (!callsAssertNever(def) && covered(tc, n, t))
            out.push(`${at} has a case for every member: its default should be \`assertNever(...)\``);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

describe("switches on a union", () => {
  it("are exhaustive: default assertNever, or a catch-all that leaves members out", () => {
    const found = problems();
    expect(found, `switches not checked for exhaustiveness:\n${found.join("\n")}`).toEqual([]);
  }, 60_000);
});
