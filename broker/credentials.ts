/**
 * The credentials-file access policy: a JSON map of usernames to a role, a node id for nodes and a
 * scrypt password hash. Also the hashing helper that makes those hashes.
 */

import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { assertNever, DEFAULT_PREFIX, isNodeId, NodeId, OptionError, Prefix } from "../protocol/index.js";
import { shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, readUserText } from "../protocol/user-file.js";
import type { AccessPolicy, AuthRequest, AuthResult, Identity } from "./acl.js";

/** N=2^14, r=8, p=1: the parameters node:crypto defaults to, ~50 ms per check. */
const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const HASH_RE = /^scrypt:([A-Za-z0-9_-]{16,}):([A-Za-z0-9_-]{43})$/;

function derive(password: string | Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt:<salt>:<key>` (base64url) — the form the credentials file stores. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return `scrypt:${salt.toString("base64url")}:${key.toString("base64url")}`;
}

const credentialSchema = z.discriminatedUnion("role", [
  z.object({
    role: z.literal("control"),
    password: z.string().regex(HASH_RE, "must be a scrypt:<salt>:<key> hash (see hashPassword)"),
  }),
  z.object({
    role: z.literal("node"),
    nodeId: z.string().refine(isNodeId, "must be a node id: 1-23 of A-Z a-z 0-9 _ -"),
    password: z.string().regex(HASH_RE, "must be a scrypt:<salt>:<key> hash (see hashPassword)"),
  }),
]);

export const credentialsFileSchema = z.object({
  /** Topic prefix the node rules apply to. */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,12}$/, "must be a topic prefix: 1-12 of A-Z a-z 0-9 _ -")
    .default(DEFAULT_PREFIX),
  users: z.record(z.string().min(1, "usernames must not be empty"), credentialSchema),
});
export type CredentialsFile = z.input<typeof credentialsFileSchema>;

/** Checks a parsed credentials object; throws naming the bad field (`users.lamp-1.nodeId …`). */
export function parseCredentials(
  raw: unknown,
  source = "credentials",
): z.output<typeof credentialsFileSchema> {
  const parsed = credentialsFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"} ${i.message}`);
  throw new Error(`${source}: ${issues.join("; ")}`);
}

/** A credentials file that cannot be used: missing, unreadable, not JSON, or a bad entry. */
export class CredentialsFileError extends OptionError {
  override readonly name = "CredentialsFileError";
}

export async function loadCredentialsFile(path: string): Promise<AccessPolicy> {
  const text = readUserText(path, { maxBytes: FILE_LIMITS.fleet, error: (m) => new CredentialsFileError(m) });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CredentialsFileError(
      `credentials file ${shownPath(path)} is not JSON: ${(err as Error).message}`,
    );
  }
  try {
    return credentialsPolicy(parseCredentials(json, `credentials file ${path}`));
  } catch (err) {
    throw new CredentialsFileError((err as Error).message);
  }
}

type Entry = z.output<typeof credentialSchema>;

/**
 * A node must connect with client id `<prefix>-<node id>` (protocol.md §1): otherwise one node's
 * credentials could take over another node's session by reusing its client id.
 */
export function credentialsPolicy(file: CredentialsFile): AccessPolicy {
  const { prefix: rawPrefix, users } = parseCredentials(file);
  const prefix = Prefix(rawPrefix);
  const table = new Map(Object.entries(users));
  // Unknown usernames still pay for one scrypt, so timing does not reveal which names exist.
  const decoy = randomBytes(16);

  return {
    async authenticate({ clientId, username, password }: AuthRequest): Promise<AuthResult> {
      const entry = username === undefined ? undefined : table.get(username);
      const match = HASH_RE.exec(entry?.password ?? "");
      const salt = match ? Buffer.from(match[1]!, "base64url") : decoy;
      const key = await derive(password ?? Buffer.alloc(0), salt);
      if (entry === undefined || username === undefined || match === null || password === undefined) {
        return { ok: false, why: "bad-credentials" };
      }
      if (!timingSafeEqual(key, Buffer.from(match[2]!, "base64url")))
        return { ok: false, why: "bad-credentials" };
      const identity = identityOf(username, entry, clientId);
      return typeof identity === "string" ? { ok: false, why: identity } : { ok: true, identity };
    },
    recheck(was: Identity, clientId: string) {
      const entry = table.get(was.username);
      if (entry === undefined) return { ok: false, why: "user-removed" };
      if (entry.password !== was.credential) return { ok: false, why: "password-changed" };
      const identity = identityOf(was.username, entry, clientId);
      return typeof identity === "string" ? { ok: false, why: identity } : { ok: true, identity };
    },
  };

  /** Who `username` logged in as `clientId` is by its entry, or why it may not use that client id. */
  function identityOf(username: string, entry: Entry, clientId: string): Identity | "bad-client-id" {
    const credential = entry.password;
    switch (entry.role) {
      case "control":
        return { role: "control", username, credential };
      case "node": {
        const nodeId = NodeId(entry.nodeId);
        if (clientId !== `${prefix}-${nodeId}`) return "bad-client-id";
        return { role: "node", username, prefix, nodeId, credential };
      }
      default:
        assertNever(entry);
    }
  }
}
