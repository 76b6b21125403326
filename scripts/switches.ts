/**
 * Exhaustive switches: every `switch` on a union of literals (a message kind, an event type, a mode)
 * ends in `default: assertNever(x)` — which compiles only when every member has its case — or in a
 * deliberate catch-all for the members it leaves out, which must then leave some out. A new member of
 * a union therefore fails the type check wherever it is not handled. Biome's own rule
 * (useExhaustiveSwitchCases) reads narrowing less well than the compiler, hence this check, which
 * `npm run typecheck` runs on the program it has just checked.
 */
import { relative, sep } from "node:path";
import ts from "typescript";

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
      ts.isIdentifier(s.expression.expression) &&
      s.expression.expression.text === "assertNever",
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

/**
 * Every switch on a literal union in `program`'s own files (those under `root`, outside
 * node_modules) that is not checked for exhaustiveness, as `file:line switch (expr) <what to do>`.
 */
export function switchProblems(program: ts.Program, root: string): string[] {
  const tc = program.getTypeChecker();
  const out: string[] = [];
  for (const sf of program.getSourceFiles()) {
    const file = relative(root, sf.fileName).split(sep).join("/");
    if (file.startsWith("..") || file.includes("node_modules/") || sf.isDeclarationFile) continue;
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
