// The line a run starts with says how the fleet is paired as the pairing is made: pairs are mutual
// pairs whatever the group size (it shows only when odd: each group's last node is then unpaired).
import { describe, expect, it } from "vitest";
import { main } from "../main.js";

async function firstLine(topology: string, groupSize: number): Promise<string> {
  const err: string[] = [];
  const argv = [
    "sim",
    "--clock",
    "virtual",
    "--nodes",
    "10",
    "--duration",
    "1",
    "--settle",
    "1",
    "--headless",
  ];
  const code = await main([...argv, "--topology", topology, "--group-size", String(groupSize)], {
    stdout: () => {},
    stderr: (s) => err.push(s),
  });
  expect(code).toBe(0);
  return err.join("").split("\n")[0] ?? "";
}

describe("the start line's pairing", () => {
  it("names each topology as it pairs the fleet", async () => {
    expect(await firstLine("pairs", 8)).toContain(" nodes, pairs, ");
    expect(await firstLine("pairs", 5)).toContain(
      " nodes, pairs in groups of 5 (the last of each unpaired), ",
    );
    expect(await firstLine("none", 8)).toContain(" nodes, no pairing, ");
    expect(await firstLine("ring", 4)).toContain(" nodes, ring of 4, ");
  });
});
