/**
 * Broker access rules (protocol.md §7) as aedes hooks. The policy — who is who — comes in as a
 * pluggable `AccessPolicy`; this module owns only what each role may publish and subscribe, and the
 * mapping of decisions onto MQTT 3.1.1 (CONNACK codes, SUBACK 0x80, closing on a denied PUBLISH).
 */

import type { AedesOptions, AuthErrorCode, Client, PublishPacket } from "aedes";
import type { Logger } from "pino";
import { assertNever, type NodeId, type ParsedTopic, type Prefix, parseTopic } from "../protocol/index.js";

/**
 * Who a connected client is once authenticated. `credential` is what its password was checked
 * against (a credentials file's stored hash): a reload compares it to tell a changed password.
 */
export type Identity =
  | { readonly role: "control"; readonly username: string; readonly credential?: string }
  | {
      readonly role: "node";
      readonly username: string;
      readonly prefix: Prefix;
      readonly nodeId: NodeId;
      readonly credential?: string;
    };

export type AuthFailure = "bad-credentials" | "not-authorized" | "bad-client-id";
export type AuthResult =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly why: AuthFailure };

export interface AuthRequest {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
}

/** Why a connected client's login no longer holds under new rules. */
export type Revoked = "user-removed" | "password-changed" | "bad-client-id";

/** Decides who a connecting client is; e.g. `credentialsPolicy()` over a credentials file. */
export interface AccessPolicy {
  authenticate(request: AuthRequest): Promise<AuthResult>;
  /**
   * Who a client that logged in as `identity` (under earlier rules) is under these rules, without its
   * password: its identity now (role, node id, prefix as these rules give them), or why its login no
   * longer holds. A policy without it keeps every connection as it is when it replaces another.
   */
  recheck?(
    identity: Identity,
    clientId: string,
  ): { ok: true; identity: Identity } | { ok: false; why: Revoked };
}

/**
 * The rules in force and who each connected client is under them: swapping `policy` (a reload,
 * broker/reload.ts) changes what every later login, publish, subscription and delivery is judged by.
 */
export class AccessRules {
  readonly identities = new WeakMap<Client, Identity>();
  constructor(public policy: AccessPolicy) {}
}

const SYS_PREFIX = "$SYS/";
/** Topics a node publishes about itself (protocol.md §3: the reporter's own id in the topic). */
const NODE_PUBLISHES: ReadonlySet<string> = new Set(["report", "config", "status", "register"]);

export function canPublish(identity: Identity, topic: string): boolean {
  // $SYS is the broker's own namespace for everyone, as aedes's default hook has it (aedes #597).
  if (topic.startsWith(SYS_PREFIX)) return false;
  switch (identity.role) {
    case "control":
      return true;
    case "node": {
      const parsed = tryParse(identity.prefix, topic);
      return (
        parsed !== undefined &&
        parsed.kind !== "query" &&
        NODE_PUBLISHES.has(parsed.kind) &&
        parsed.node === identity.nodeId
      );
    }
    default:
      assertNever(identity);
  }
}

export function canSubscribe(identity: Identity, filter: string): boolean {
  switch (identity.role) {
    case "control":
      return true;
    case "node": {
      // No wildcards at all: `<p>/report/+` would let one node watch the whole fleet.
      if (filter.includes("+") || filter.includes("#")) return false;
      const parsed = tryParse(identity.prefix, filter);
      if (parsed === undefined) return false;
      return parsed.kind === "query" || parsed.kind === "report" || parsed.node === identity.nodeId;
    }
    default:
      assertNever(identity);
  }
}

function tryParse(prefix: Prefix, topic: string): ParsedTopic | undefined {
  try {
    return parseTopic(prefix, topic);
  } catch {
    return undefined;
  }
}

const RETURN_CODES: Record<AuthFailure, number> = {
  "bad-client-id": 2,
  "bad-credentials": 4,
  "not-authorized": 5,
};

/** A login these hooks refused; logged here once, so the broker's client-error log skips it. */
export class AuthRefusedError extends Error {
  override readonly name = "AuthRefusedError";
}

type AclHooks = Required<
  Pick<
    AedesOptions,
    "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward"
  >
>;

/**
 * The aedes hooks enforcing `policy`. The will is checked at CONNECT (preConnect keeps it until the
 * identity is known), so a will stored in persistence was always allowed — aedes publishes those
 * with no client when the broker restarts.
 */
export function aclHooks(access: AccessPolicy | AccessRules, logger: Logger): AclHooks {
  const rules = access instanceof AccessRules ? access : new AccessRules(access);
  const { identities } = rules;
  const wills = new WeakMap<Client, string>();

  const fail = (why: AuthFailure, message: string) =>
    Object.assign(new AuthRefusedError(message), { returnCode: RETURN_CODES[why] as AuthErrorCode });

  return {
    preConnect(client, packet, callback) {
      if (packet.will) wills.set(client, packet.will.topic);
      callback(null, true);
    },
    authenticate(client, username, password, callback) {
      const policy = rules.policy;
      policy
        .authenticate({ clientId: client.id, username, password })
        .then((checked) => {
          // Rules reloaded while the password was being checked: the login must hold under the new ones.
          const result = recheckedLogin(checked, rules.policy, policy, client.id);
          // The client's own address as its socket gives it (an IPv6 one whole, not the /64 the
          // abuse limits count it under): the device to find and fix.
          const remote = (client as { conn?: { remoteAddress?: string } }).conn?.remoteAddress;
          if (!result.ok) {
            logger.warn({ clientId: client.id, username, remote, why: result.why }, "connection refused");
            callback(fail(result.why, `${result.why} for client ${client.id}`), false);
            return;
          }
          const will = wills.get(client);
          wills.delete(client);
          if (will !== undefined && !canPublish(result.identity, will)) {
            logger.warn({ clientId: client.id, username, remote, will }, "will topic not allowed");
            callback(fail("not-authorized", `will topic ${will} not allowed for ${username}`), false);
            return;
          }
          identities.set(client, result.identity);
          callback(null, true);
        })
        .catch((err: unknown) => {
          logger.error({ err, clientId: client.id }, "access policy failed");
          callback(fail("not-authorized", "access policy failed"), false);
        });
    },
    authorizePublish(client, packet: PublishPacket, callback) {
      // No client: a will from persistence, checked when its client connected.
      if (client === null) return callback(null);
      const identity = identities.get(client);
      if (identity !== undefined && canPublish(identity, packet.topic)) return callback(null);
      logger.warn({ clientId: client.id, topic: packet.topic }, "publish denied");
      // [MQTT-3.3.5-2] 3.1.1 has no negative PUBACK: the connection is closed.
      callback(new Error(`publish to ${packet.topic} not allowed`));
    },
    authorizeSubscribe(client, subscription, callback) {
      const identity = identities.get(client);
      if (identity !== undefined && canSubscribe(identity, subscription.topic)) {
        return callback(null, subscription);
      }
      logger.warn({ clientId: client.id, topic: subscription.topic }, "subscribe denied");
      // [MQTT-3.9.3] a null subscription makes aedes answer 0x80 for it; the client stays connected.
      callback(null, null);
    },
    // A subscription is judged when it is made; after a reload, or a restart with other rules, a
    // session may hold one its identity may no longer make: what it would not be granted is not
    // delivered. A node's filters hold no wildcards, so its topics are judged as filters.
    authorizeForward(client, packet) {
      const identity = identities.get(client);
      if (identity === undefined || identity.role === "control") return packet;
      return canSubscribe(identity, packet.topic) ? packet : null;
    },
  };
}

/** A login checked under `used` judged again under `now`, when the rules changed meanwhile. */
function recheckedLogin(
  result: AuthResult,
  now: AccessPolicy,
  used: AccessPolicy,
  clientId: string,
): AuthResult {
  if (now === used || !result.ok || now.recheck === undefined) return result;
  const again = now.recheck(result.identity, clientId);
  if (again.ok) return again;
  return { ok: false, why: again.why === "bad-client-id" ? "bad-client-id" : "bad-credentials" };
}

/**
 * Whether the subscription `filter` falls under `pattern`: compared level by level, `+` in the
 * pattern standing for any one level and `#` for the rest (the filter's own wildcards are text).
 */
export function filterUnder(pattern: string, filter: string): boolean {
  const p = pattern.split("/");
  const f = filter.split("/");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "#") return true;
    if (i >= f.length || (p[i] !== "+" && p[i] !== f[i])) return false;
  }
  return p.length === f.length;
}

type AuthorizeSubscribe = NonNullable<AedesOptions["authorizeSubscribe"]>;

/**
 * Refuses (SUBACK 0x80, the client stays connected) every subscription whose filter falls under one
 * of `denied`, whoever asks; the rest go on to `next` (the access rules), or are granted.
 */
export function denySubscribeHook(
  denied: readonly string[],
  logger: Logger,
  next?: AuthorizeSubscribe,
): AuthorizeSubscribe {
  return (client, subscription, callback) => {
    if (denied.some((pattern) => filterUnder(pattern, subscription.topic))) {
      logger.info(
        { clientId: client.id, topic: subscription.topic },
        "subscribe refused by --deny-subscribe",
      );
      return callback(null, null);
    }
    if (next) return next(client, subscription, callback);
    callback(null, subscription);
  };
}
