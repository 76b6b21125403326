/**
 * The cluster member log count (bench/member-log.ts): each kind of JetStream timeout line once.
 */
import { describe, expect, it } from "vitest";
import { countMemberLog } from "./member-log.js";

describe("countMemberLog", () => {
  it("counts each kind of JetStream timeout line once and ignores the rest", () => {
    const text = [
      "--- m1",
      '[1] 2026/12/02 06:04:19.6 [ERR] 127.0.0.1:1 - mid:4 - "tf-n-0812" - Unable to add JetStream consumer for subscription on "tf.config.n-0812": err=timeout for request type "CC"',
      '[1] 2026/12/02 06:04:19.7 [ERR] 127.0.0.1:2 - mid:5 - "tf-n-0813" - Unable to add JetStream consumer for subscription on "tf.state.n-0813": err=timeout',
      '[1] 2026/12/02 06:04:19.8 [ERR] 127.0.0.1:3 - mid:6 - "tf-n-0001" - unable to store retained message for account "$G", subject "tf.status.n-0001": timeout',
      "--- m2",
      '[2] 2026/12/02 06:04:20.0 [ERR] 127.0.0.1:4 - mid:7 - "mqttjs_1" - unable to connect: loading session record for account "$G": timeout',
      '[2] 2026/12/02 06:04:20.1 [ERR] 127.0.0.1:5 - mid:8 - "tf-n-0002" - unable to persist session "tf-n-0002" (seq=3): timeout',
      '[2] 2026/12/02 06:04:20.2 [ERR] 127.0.0.1:6 - mid:9 - "tf-n-0003" - unable to delete consumer "x" for session "tf-n-0003": timeout',
      "[2] 2026/12/02 06:04:20.3 [WRN] 127.0.0.1:7 - mid:9 - Readloop processing time: 4.1s",
    ].join("\n");
    expect(countMemberLog(text)).toEqual({
      refusedSubscriptions: 2,
      refusedConnects: 1,
      retainedStoreTimeouts: 1,
      sessionWriteTimeouts: 1,
      consumerDeleteTimeouts: 1,
    });
  });
});
