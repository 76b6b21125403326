// Topic parsing: `<prefix>/query` and `<prefix>/<action>/<node id>` read, everything else rejected
// with the error a reading of the topic level by level gives.
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors.js";
import { Prefix } from "../ids.js";
import { parseTopic } from "../topics.js";

/** The outcome of parsing, as data: the parsed topic, or the error's code and message. */
function outcome(prefix: Prefix, topic: string): unknown {
  try {
    return parseTopic(prefix, topic);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { code: e.reason, message: e.message };
  }
}

describe("parseTopic", () => {
  const tf = Prefix("tf");

  it("reads the query topic and every node action", () => {
    expect(parseTopic(tf, "tf/query")).toEqual({ kind: "query" });
    for (const kind of ["report", "config", "status", "register", "state", "subscribe", "unsubscribe"]) {
      expect(parseTopic(tf, `tf/${kind}/n-1_A`)).toEqual({ kind, node: "n-1_A" });
    }
  });

  it("rejects each malformed topic with the error for its first fault", () => {
    const cases: [string, string, string][] = [
      ["tf", "bad-topic", 'topic "tf" is not <prefix>/<action>/<node id> with a known action'],
      ["", "bad-topic", 'topic "" is not under prefix "tf"'],
      ["tfx/report/n1", "bad-topic", 'topic "tfx/report/n1" is not under prefix "tf"'],
      ["t/report/n1", "bad-topic", 'topic "t/report/n1" is not under prefix "tf"'],
      ["/tf/report/n1", "bad-topic", 'topic "/tf/report/n1" is not under prefix "tf"'],
      ["tf/", "bad-topic", 'topic "tf/" is not <prefix>/<action>/<node id> with a known action'],
      ["tf/query/", "bad-topic", 'topic "tf/query/" is not <prefix>/<action>/<node id> with a known action'],
      [
        "tf/query/n1",
        "bad-topic",
        'topic "tf/query/n1" is not <prefix>/<action>/<node id> with a known action',
      ],
      ["tf/report", "bad-topic", 'topic "tf/report" is not <prefix>/<action>/<node id> with a known action'],
      [
        "tf/reports/n1",
        "bad-topic",
        'topic "tf/reports/n1" is not <prefix>/<action>/<node id> with a known action',
      ],
      [
        "tf/report/n1/x",
        "bad-topic",
        'topic "tf/report/n1/x" is not <prefix>/<action>/<node id> with a known action',
      ],
      [
        "tf/report//",
        "bad-topic",
        'topic "tf/report//" is not <prefix>/<action>/<node id> with a known action',
      ],
      ["tf/report/", "bad-id", 'topic "tf/report/" has a malformed node id'],
      ["tf/report/n 1", "bad-id", 'topic "tf/report/n 1" has a malformed node id'],
      ["tf/report/é", "bad-id", 'topic "tf/report/é" has a malformed node id'],
    ];
    for (const [topic, code, message] of cases) {
      expect(outcome(tf, topic), topic).toEqual({ code, message });
    }
  });
});
