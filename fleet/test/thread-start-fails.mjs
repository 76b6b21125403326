/**
 * Loaded (`--import`) by each thread of a pool in fleet/test/shard-pool-start.test.ts before
 * anything else: it fails as the thread starts, before the thread takes a task, as a thread
 * refused a file by the open-files limit does (`FAIL_AS=plain`: an error of another kind).
 */
const plain = process.env.FAIL_AS === "plain";
throw Object.assign(
  new Error(plain ? "a module of the worker failed" : "EMFILE: too many open files, open '/opt/x.js'"),
  plain ? {} : { code: "EMFILE" },
);
