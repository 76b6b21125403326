/**
 * Two operators pairing the same offline node at once: this service writes the node's config, and
 * another control tool (a `twinfleet pair` on another desk, which read the config before this write
 * reached it) writes its own at the same version. Both pairings stand, on the broker and at the node
 * when it returns; before, the broker kept the other's, the service its own, and the node returning
 * was sent this service's pairing, undoing the other's without a word.
 */
import type { MqttClient } from "mqtt";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startBroker } from "../../broker/index.js";
import { NodeId } from "../../protocol/index.js";
import { crossedLine, mergeCrossed } from "../crossed-writes.js";
import type { Twins } from "../service.js";
import { FINDS_RETAINED, Fixtures, rawClient, until } from "./helpers.js";

const fx = new Fixtures();
afterEach(() => fx.close());

/** The retained config the broker holds for `id`, as a late subscriber gets it. */
async function retainedConfig(id: string): Promise<string> {
  const c: MqttClient = fx.track(await rawClient(fx.url), (x) => x.endAsync());
  const got = new Promise<string>((resolve) => c.on("message", (_t, p) => resolve(p.toString())));
  await c.subscribeAsync(`tf/config/${id}`, { qos: 1 });
  return got;
}

/** A follows B (confirmed); C and D online; then A away. The service's log lines, as written. */
async function aAwayFollowingB(): Promise<{ t: Twins; lines: string[] }> {
  const b = fx.track(await startBroker({ host: "127.0.0.1", port: 0 }), (x) => x.close());
  fx.url = b.url;
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => lines.push(s) });
  const t = await fx.twins({ logger });
  for (const id of ["B", "C", "D"]) await fx.node(id);
  const a = await fx.node("A");
  await until(() => ["A", "B", "C", "D"].every((id) => t.get(id)?.presence === "online"), "all online");
  await t.pair("A", "B");
  await until(() => t.get("A")?.pairing === "confirmed", "A follows B");
  const base = t.get("A")?.config?.version;
  expect(base).toBe(1);
  await a.stop();
  await until(() => t.get("A")?.presence === "offline", "A offline");
  return { t, lines };
}

describe("two pairings of an offline node written at once", () => {
  it("keeps both: the other tool's pair is put on top of this service's and written again", async () => {
    const { t, lines } = await aAwayFollowingB();
    await t.pair("A", "C"); // writes C1 2 B C
    await until(() => t.get("A")?.config?.version === 2, "the service's write seen");
    // Another desk's `twinfleet pair A D`, made from C1 1 B: the broker keeps it, being last.
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 2 B D", { qos: 1, retain: true });

    await until(() => t.get("A")?.desired.configVersion === 3, "written again one version up");
    expect(t.get("A")).toMatchObject({ pairing: "pending", desired: { sources: ["B", "C", "D"] } });
    await until(() => t.get("A")?.config?.version === 3, "the new write seen");
    expect(await retainedConfig("A")).toBe("C1 3 B C D");
    const told = lines.find((l) => l.includes("two pairings of A were written at once"));
    expect(told).toContain(
      "another control tool's (B, D) and this service's (B, C); both are kept: it follows B, C, D once it returns",
    );

    const back = await fx.node("A", FINDS_RETAINED);
    await until(() => t.get("A")?.pairing === "confirmed", "A confirms");
    expect([...back.state.sources].sort()).toEqual(["B", "C", "D"]);
    expect(t.get("A")?.follows).toEqual(["B", "C", "D"]);
  });

  it("keeps the other tool's unpair with this service's pair", async () => {
    const { t } = await aAwayFollowingB();
    await t.pair("A", "C"); // C1 2 B C
    await until(() => t.get("A")?.config?.version === 2, "the service's write seen");
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 2", { qos: 1, retain: true }); // `twinfleet unpair A B`

    await until(() => t.get("A")?.desired.configVersion === 3, "written again one version up");
    expect(t.get("A")?.desired.sources).toEqual(["C"]);
    const back = await fx.node("A", FINDS_RETAINED);
    await until(() => t.get("A")?.pairing === "confirmed", "A confirms");
    expect([...back.state.sources]).toEqual(["C"]);
  });

  it("keeps a second desk's pair crossing the same write, once, and counts it no bad input", async () => {
    const { t, lines } = await aAwayFollowingB();
    await t.pair("A", "C"); // C1 2 B C
    await until(() => t.get("A")?.config?.version === 2, "the service's write seen");
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 2 B D", { qos: 1, retain: true }); // one desk, from C1 1 B
    await until(() => t.get("A")?.config?.version === 3, "written again one version up");
    // Another desk that read C1 1 B too: its write comes after the service's C1 3, replacing it.
    await raw.publishAsync("tf/config/A", "C1 2 B E", { qos: 1, retain: true });
    await until(() => t.get("A")?.config?.version === 4, "written again above both");
    expect(t.get("A")?.desired.sources).toEqual(["B", "C", "D", "E"]);
    // The first desk's write seen again (a retry): taken already, nothing more.
    await raw.publishAsync("tf/config/A", "C1 2 B D", { qos: 1, retain: true });
    await raw.publishAsync("tf/config/Z", "C1 1", { qos: 1, retain: true }); // comes after it, in order
    await until(() => t.get("Z") !== undefined, "the retry handled");
    expect(t.badInput().byReason["stale-config"]).toBe(0);
    await raw.publishAsync("tf/config/A", "C1 4 B C D E", { qos: 1, retain: true }); // what the service wrote
    const told = lines.filter((l) => l.includes("two pairings of A were written at once"));
    expect(told).toHaveLength(2);
    // Both crossed the service's C1 2 B C: the second line names that, not the desire written since.
    expect(told[1]).toContain(
      "both as config version 2: another control tool's (B, E) and this service's (B, C); both are kept: it follows B, C, D, E",
    );
    expect(t.get("A")?.desired.configVersion).toBe(4);

    const back = await fx.node("A", FINDS_RETAINED);
    await until(() => t.get("A")?.pairing === "confirmed", "A confirms");
    expect([...back.state.sources].sort()).toEqual(["B", "C", "D", "E"]);
  });

  it("takes this service's own write coming back, and a later version, as no crossing", async () => {
    const { t, lines } = await aAwayFollowingB();
    await t.pair("A", "C");
    await until(() => t.get("A")?.config?.version === 2, "the service's write seen");
    const raw = fx.track(await rawClient(fx.url), (c) => c.endAsync());
    await raw.publishAsync("tf/config/A", "C1 3 B D", { qos: 1, retain: true }); // made after ours: replaces it
    await until(() => t.get("A")?.desired.configVersion === 3, "the other's write taken");
    expect(t.get("A")?.desired.sources).toEqual(["B", "D"]);
    expect(lines.some((l) => l.includes("written at once"))).toBe(false);
  });
});

const ids = (...s: string[]): NodeId[] => s.map((x) => NodeId(x));

describe("mergeCrossed", () => {
  it("puts the other's additions after ours and takes out what it removed", () => {
    expect(mergeCrossed(ids("B", "C"), ids("B"), ids("B", "D"))).toEqual(["B", "C", "D"]);
    expect(mergeCrossed(ids("B", "C"), ids("B"), [])).toEqual(["C"]);
    expect(mergeCrossed(ids("C"), ids("B"), ids("B", "C"))).toEqual(["C"]); // we removed B, they added C
  });

  it("gives up past the protocol's 8 sources, and the line says this service's stands", () => {
    const ours = ids("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8");
    expect(mergeCrossed(ours, ours.slice(0, 7), [...ours.slice(0, 7), NodeId("s9")])).toBeUndefined();
    const line = crossedLine({
      type: "crossed",
      node: NodeId("A"),
      version: 4,
      theirs: ids("x"),
      ours: ids("y"),
      desired: ids("y", "z"),
    });
    expect(line).toContain(
      "this service's stands (y, z), written again one version up, and the other is not carried out",
    );
  });
});
