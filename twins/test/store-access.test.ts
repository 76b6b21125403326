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
      `permission denied: ${file} is owned by uid ${before.uid} (gid ${before.gid}) with mode 0640, and this service runs as uid ${uid} (gid ${gid})`,
    );
    expect(err?.message).toContain(`chown ${uid} ${file}`);
    expect(err?.message).not.toMatch(/restore it from a backup|move it away to start without it/);
    refused = undefined;
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
  },
);

it("names the directory when the file itself cannot be looked at, and a service without a uid as its user", () => {
  expect(
    permissionMessage("/srv/t", { uid: 1001, gid: 1001, mode: 0o40700 }, { uid: 998, gid: 998 }, true),
  ).toBe(
    "permission denied: /srv/t is owned by uid 1001 (gid 1001) with mode 0700, and this service runs as uid 998 (gid 998): " +
      "give it to the service's user (chown 998 /srv/t) or let that user read and write it (chmod u+rwx /srv/t), or run the service as uid 1001; " +
      "the file is left as it is and nothing in it is lost (do not move it away or restore a backup: it is not damaged)",
  );
  expect(
    permissionMessage("f", { uid: 0, gid: 0, mode: 0o100600 }, { uid: undefined, gid: undefined }),
  ).toContain(
    "with mode 0600, and this service runs as this service's user: give it to the service's user (chown <the service's uid> f)",
  );
});
