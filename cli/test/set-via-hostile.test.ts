/**
 * `twinfleet set --via` facing a peer that is not a twins service, or misbehaves: an answer without
 * end (a wrong URL, a proxy, some other server) is read to VIA_MAX_BYTES and named with that size
 * (exit 1), the rest left unread; an answer that stops half-way is named with how far it came. The
 * command used to read every answer whole: 2.2 GB in its 10 s against a peer sending without end,
 * then `The operation was aborted due to timeout`.
 */
import { expect, it } from "vitest";
import { endless, fakePeers } from "../../node/test/fake-peer.js";
import { VIA_MAX_BYTES } from "../commands/set-via.js";
import { runMain } from "./run-main.js";

const { serve: serving } = fakePeers();

it("reads an answer without end to its bound, names the size, and lets the peer go", async () => {
  const peer = endless();
  const origin = await serving((_req, res) =>
    peer.answer(
      res,
      200,
      "application/json",
      '{"presence":"online","padding":"',
      Buffer.alloc(256 * 1024, 0x78),
    ),
  );
  const r = await runMain("set", "n-1", "on", "--via", origin);
  expect(r.code).toBe(1);
  expect(r.err).toContain(
    `the twins service at ${origin} answered PUT /api/nodes/n-1/state (200) with more than 16 MB, more than any node's answer holds: the rest was not read; is --via the twins service's --http address (not a proxy's or another server's)?`,
  );
  expect(r.out).toBe("");
  await peer.gone;
  // What the peer got into the socket before it was let go: the bound and the kernel's buffers.
  expect(peer.sent()).toBeLessThan(VIA_MAX_BYTES + 32 * 1024 * 1024);
}, 60_000);

it("names an answer cut half-way with how far it came", async () => {
  const origin = await serving((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
    res.write('{"presence":"onl');
    setImmediate(() => res.destroy());
  });
  const r = await runMain("set", "n-1", "on", "--via", origin);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    new RegExp(
      `the twins service at ${origin} answered PUT /api/nodes/n-1/state \\(200\\) and its answer was cut \\(.+\\): 16 bytes by then`,
    ),
  );
});
