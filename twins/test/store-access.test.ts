/**
 * twins.json or twins.journal the system refuses to the service (EACCES, injected here: the tests may
 * run as root, whom no mode refuses): the start names the file's owner and mode and the user the
 * service runs as, and does not tell to restore a backup or move the file away, which loses state.
 */
import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";

/** The file name whose opening to read is refused. */
let refused: string | undefined;

vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const [path, flags] = args;
      const reading =
        flags === undefined || flags === "r" || (typeof flags === "number" && (flags & 3) === 0);
      if (refused !== undefined && reading && String(path).endsWith(refused))
        throw Object.assign(new Error(`EACCES: permission denied, open '${String(path)}'`), {
          code: "EACCES",
        });
      return fs.open(...args);
    },
  };
});

const { jsonFileStore, STORE_FILE } = await import("../store.js");
const { JOURNAL_FILE } = await import("../store-journal.js");
const { permissionMessage } = await import("../store-access.js");

let dir: string | undefined;
afterEach(async () => {
  refused = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const uid = process.getuid?.();
const gid = process.getgid?.();

it.each([STORE_FILE, JOURNAL_FILE])(
  "names %s's owner and mode and the service's uid when it may not read it, and leaves it as it is",
  async (name) => {
    dir = await mkdtemp(join(tmpdir(), "tf-store-access-"));
    // A snapshot and a journal (each is read at the start, the journal whatever its generation).
    await writeFile(join(dir, STORE_FILE), '{"nodes":{}}\n');
    await writeFile(join(dir, JOURNAL_FILE), '{"journal":1,"generation":1}\n');
    const file = join(dir, name);
    await chmod(file, 0o640);
    const before = await stat(file);
    refused = name;
    const again = await jsonFileStore(dir);
    const err = await again.load().then(
      () => undefined,
      (e: Error) => e,
    );
    await again.close();
    expect(err?.message).toContain(`${file} cannot be read: EACCES: permission denied`);
    expect(err?.message).toContain(
      `EACCES: permission denied, open '${file}'; ${file} is owned by uid ${before.uid} (gid ${before.gid}) with mode 0640, and this service runs as uid ${uid} (gid ${gid}): `,
    );
    // The tests' user owns the file it made: its mode is what to fix.
    expect(err?.message).toContain(`let its owner read and write it (chmod u+rw ${file})`);
    expect(err?.message).not.toMatch(/restore it from a backup|move it away to start without it/);
    refused = undefined;
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  },
);

it("tells another user's file to be given to the service's user, and a directory's owner to search it", () => {
  expect(
    permissionMessage("/srv/t/twins.json", { uid: 0, gid: 0, mode: 0o100600 }, { uid: 998, gid: 998 }),
  ).toBe(
    "/srv/t/twins.json is owned by uid 0 (gid 0) with mode 0600, and this service runs as uid 998 (gid 998): " +
      "give it to the service's user (chown 998 /srv/t/twins.json), or run the service as uid 0; " +
      "the file is left as it is and nothing in it is lost (it is not damaged: neither move it away nor restore a backup)",
  );
  expect(
    permissionMessage("/srv/t", { uid: 998, gid: 998, mode: 0o40600 }, { uid: 998, gid: 998 }, true),
  ).toContain(
    "/srv/t is owned by uid 998 (gid 998) with mode 0600, and this service runs as uid 998 (gid 998): let its owner read and write it (chmod u+rwx /srv/t);",
  );
  expect(
    permissionMessage("f", { uid: 0, gid: 0, mode: 0o100600 }, { uid: undefined, gid: undefined }),
  ).toContain(
    "this service runs as this service's user: give it to the service's user (chown <the service's uid> f)",
  );
});
