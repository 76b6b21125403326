/**
 * Test limits sized to the starts a test makes: a broker process, a broker thread with its worker
 * pool, a node process through the TypeScript loader. Each loads the project's modules before it does
 * anything, and on a busy host that is most of a test's time: a broker process started in 10-11 s
 * under the test runner with its core shared three ways (`taskset -c 0 npx vitest run
 * fleet/test/broker-process-died.test.ts` beside two `taskset -c 0 node -e 'for(;;){}'` loops), a test
 * of two such starts took 25.8 s of the 30 s a test is given, and CI at heavier load passed it. A start
 * is given 4 times what it took there: the limit only ends a hang, the tests judge what they see.
 */
export const START_LIMIT_MS = 45_000;

/** The limit of a test whose work is `starts` such starts. */
export function limitForStarts(starts: number): number {
  return starts * START_LIMIT_MS;
}
