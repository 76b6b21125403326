/**
 * A member of a Redis cluster lost, as another member tells it (`$SYS/broker/member/<id>/lost`, the
 * will topics of its clients one a line: broker/member-beats.ts): the nodes among them that the twins
 * showed online are unheard — not online, not offline, no will published — until heard again (their
 * live `T1 1`) or their will comes; other nodes, other prefixes and other clients' wills are left as
 * they are, and a loss told twice (by each surviving member) changes nothing the second time.
 */
import { expect, it } from "vitest";
import { NodeId, Prefix } from "../../protocol/index.js";
import { memberLoss } from "../member-loss.js";
import { TwinRegistry } from "../registry.js";

const TF = Prefix("tf");
const ids = (...s: string[]) => s.map(NodeId);
const loss = (lines: string[]) => Buffer.from(lines.join("\n"));

it("reads the lost member and the nodes of this prefix with wills on it", () => {
  const read = memberLoss(
    TF,
    "$SYS/broker/member/m-1/lost",
    loss([
      "tf/status/n-2",
      "tf/status/n-1",
      "other/status/n-3",
      "tf/report/n-4",
      "junk",
      "",
      "tf/status/n-1",
    ]),
  );
  expect(read).toEqual({ member: "m-1", nodes: ids("n-1", "n-2") });
  expect(memberLoss(TF, "$SYS/broker/member/m-1/beat", Buffer.from(""))).toBeUndefined();
  expect(memberLoss(TF, "tf/status/n-1", Buffer.from("T1 1"))).toBeUndefined();
});

it("takes the lost member's online nodes as unheard until heard again or their will comes", () => {
  const r = new TwinRegistry(TF);
  for (const id of ["n-1", "n-2", "n-3"]) r.receive(`tf/status/${id}`, "T1 1", 1, 1000);
  r.receive("tf/status/n-4", "T1 0", 1, 1000);
  const fx = r.memberLost(ids("n-1", "n-2", "n-4", "n-9"));
  expect(fx.filter((e) => e.type === "unheard").map((e) => e.node)).toEqual(ids("n-1", "n-2"));
  expect(ids("n-1", "n-2", "n-3", "n-4").map((id) => r.get(id)?.presence)).toEqual([
    "unheard",
    "unheard",
    "online",
    "offline",
  ]);
  expect(r.memberLost(ids("n-1", "n-2")).filter((e) => e.type === "unheard")).toEqual([]);
  r.receive("tf/status/n-1", "T1 1", 1, 2000); // heard: back on a member
  r.receive("tf/status/n-2", "T1 0", 1, 2000, true); // its will, published later
  expect(r.get(NodeId("n-1"))?.presence).toBe("online");
  expect(r.get(NodeId("n-2"))?.presence).toBe("offline");
});
