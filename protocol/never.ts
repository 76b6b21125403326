/**
 * The exhaustiveness check for switches on a union: `default: assertNever(x)` compiles only when
 * every member of the union has its case, and throws if a value from outside the types gets there.
 */
export function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
