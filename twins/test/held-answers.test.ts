// A twins service holding a presence answers which of the nodes it is asked about it holds a twin of
// (protocol.md §6, "Which nodes a control server holds"; twins/held-answers.ts): past --max-nodes a
// newcomer has none, and a run that joined the service learns it. A malformed or retained question is
// counted as bad input and the service answers on.
import { afterEach, describe, expect, it } from "vitest";
import { heldAnswerTopic, heldAskTopic, NodeId, Prefix } from "../../protocol/index.js";
import { Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());
const p = Prefix("tf");

async function asker() {
  const client = fx.track(await rawClient(fx.url), (c) => c.endAsync());
  const answers: string[] = [];
  let wake = () => {};
  client.on("message", (topic, payload) => {
    if (topic !== heldAnswerTopic(p, "ctl-a", "tok1")) return;
    answers.push(payload.toString("latin1"));
    wake();
  });
  await client.subscribeAsync(heldAnswerTopic(p, "ctl-a", "tok1"), { qos: 1 });
  /** Resolves once `n` answers have come (a service answers its questions in their order). */
  const answered = (n: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (answers.length >= n) resolve();
      };
      wake();
    });
  return { client, answers, answered };
}

describe("the held question", () => {
  it("is answered with the nodes held no twin of, --max-nodes and the twins held", async () => {
    await fx.broker();
    const twins = await fx.twins({ clientId: "ctl-a", maxNodes: 2 });
    const { client, answers, answered } = await asker();
    for (const id of ["n-0", "n-1", "n-2"])
      await client.publishAsync(`tf/register/${id}`, "G1 sim uno-w5100 1.0.0", { qos: 1 });
    await until(() => twins.badInput().byReason["too-many-nodes"] === 1, "n-2 refused at --max-nodes 2");
    expect(twins.get(NodeId("n-2"))).toBeUndefined();
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 0 n-0 n-1 n-2 n-9", { qos: 1 });
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 1 n-1", { qos: 1 });
    await answered(2);
    expect(answers).toEqual(["H1 0 2 2 n-2 n-9", "H1 1 2 2"]);
  });

  it("counts a malformed question as bad input, ignores one replayed retained, and answers on", async () => {
    await fx.broker();
    const { client, answers, answered } = await asker();
    // A retained question on the broker before the service subscribes: replayed to it, not answered.
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 7 n-0", { qos: 1, retain: true });
    const twins = await fx.twins({ clientId: "ctl-a" });
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 x n-0", { qos: 1 });
    await until(() => twins.badInput().byReason["bad-payload"] === 2, "both counted");
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 0 n-0", { qos: 1 });
    await answered(1);
    expect(answers).toEqual(["H1 0 200000 0 n-0"]);
  });

  it("is not answered by a service without a presence (a one-shot command)", async () => {
    await fx.broker();
    await fx.twins({ clientId: "ctl-a", presence: false });
    const { client, answers } = await asker();
    await client.publishAsync(heldAskTopic(p, "ctl-a"), "A1 tok1 0 n-0", { qos: 1 });
    // What would have been answered at once (the test above) is not, 300 ms on.
    await new Promise((r) => setTimeout(r, 300));
    expect(answers).toEqual([]);
  });
});
