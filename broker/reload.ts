/**
 * A running broker taking new access rules and a new TLS key and certificate without a restart (what
 * `twinfleet broker` does on SIGHUP, broker/command.ts). All or nothing: what is to be loaded is read
 * and checked first, and a problem keeps the running configuration whole. Once loaded, the clients
 * connected are judged again under the new rules: one whose login no longer holds (its user removed,
 * its password changed, its node id or prefix no longer matching its client id) is cut, and the
 * others take the identity the new rules give them. New TLS handshakes use the new certificate;
 * sessions under way keep theirs.
 */
import { X509Certificate } from "node:crypto";
import type { Server as TlsServer } from "node:tls";
import type { Aedes, Client } from "aedes";
import type { Logger } from "pino";
import type { AccessPolicy, AccessRules, Revoked } from "./acl.js";
import type { BrokerTally } from "./figures.js";
import type { TlsMaterial } from "./tls.js";

/** What a reload puts in place; a part left out stays as it is. */
export interface ReloadInput {
  readonly auth?: AccessPolicy;
  readonly tls?: TlsMaterial;
}

export type ReloadOutcome =
  | {
      readonly ok: true;
      /** Connections cut: their login no longer holds. */
      readonly cut: number;
      /** Connections whose identity (role, node id, prefix) the new rules changed. */
      readonly changed: number;
      /** When the new certificate stops being valid (ms since the epoch), if one was loaded. */
      readonly certificateNotAfter?: number;
    }
  | { readonly ok: false; readonly problem: string };

/** The dates a certificate is valid between, in ms since the epoch. */
export function certificateDates(cert: Buffer): { readonly notBefore: number; readonly notAfter: number } {
  const x = new X509Certificate(cert);
  return { notBefore: Date.parse(x.validFrom), notAfter: Date.parse(x.validTo) };
}

/**
 * Why `cert` cannot replace the certificate in use at `now`: expired, or not valid yet. At start a
 * broker serves what it is given (there is nothing else to serve); a reload keeps the running one,
 * which clients do accept, rather than swap in one every client refuses.
 */
export function certificateProblem(cert: Buffer, now: number): string | undefined {
  const { notBefore, notAfter } = certificateDates(cert);
  if (now > notAfter) return `has expired (valid until ${new Date(notAfter).toISOString()})`;
  if (now < notBefore) return `is not valid yet (valid from ${new Date(notBefore).toISOString()})`;
  return undefined;
}

const REVOKED: Record<Revoked, string> = {
  "user-removed": "its user is no longer in the credentials file",
  "password-changed": "its user's password changed",
  "bad-client-id": "its client id no longer matches its node id and prefix",
};

/**
 * Puts `next` in force over `rules` and judges every connected client again: cut (counted as
 * `credentials-revoked`, its will published as for any connection lost) or given its new identity.
 */
export function reapplyAccess(
  rules: AccessRules,
  next: AccessPolicy,
  aedes: Aedes,
  logger: Logger,
  tally: BrokerTally,
): { cut: number; changed: number } {
  rules.policy = next;
  let cut = 0;
  let changed = 0;
  const clients = Object.values(
    (aedes as unknown as { clients: Record<string, Client | undefined> }).clients,
  );
  for (const client of clients) {
    if (client === undefined) continue;
    const was = rules.identities.get(client);
    if (was === undefined) continue;
    const now = next.recheck?.(was, client.id) ?? { ok: true as const, identity: was };
    if (!now.ok) {
      // Its identity stays for its will, checked at CONNECT and published as for any connection the
      // broker closes [MQTT-3.1.2-8] (refused, aedes would keep it stored for the next start).
      cut++;
      tally.cut["credentials-revoked"]++;
      logger.warn(
        { clientId: client.id, username: was.username, why: now.why },
        `connection cut: ${REVOKED[now.why]} (--auth reloaded)`,
      );
      client.conn.destroy();
      continue;
    }
    const is = now.identity;
    if (is.role !== was.role || (is.role === "node" && was.role === "node" && is.nodeId !== was.nodeId)) {
      changed++;
      logger.info(
        { clientId: client.id, username: is.username, was: was.role, is: is.role },
        "connection kept under its new rules: later publishes, subscriptions and deliveries are judged by them",
      );
    }
    rules.identities.set(client, is);
  }
  return { cut, changed };
}

/** A running broker's parts a reload replaces or looks at. */
export interface Reloadable {
  /** The access rules in force; undefined: started without --auth. */
  readonly rules: AccessRules | undefined;
  /** The TLS listener; undefined: started without --tls-port. */
  readonly tlsServer: TlsServer | undefined;
  readonly aedes: Aedes;
  readonly logger: Logger;
  readonly tally: BrokerTally;
}

/** RunningBroker.reload over `parts`: counted in the tally whether it took or not. */
export function reloader(parts: Reloadable): (load: () => Promise<ReloadInput>) => Promise<ReloadOutcome> {
  const { rules, tlsServer, tally } = parts;
  return async (load) => {
    let outcome: ReloadOutcome;
    try {
      const next = await load();
      if (next.auth !== undefined && rules === undefined)
        throw new Error("the broker was started without --auth: access rules can be reloaded, not added");
      if (next.tls !== undefined && tlsServer === undefined)
        throw new Error(
          "the broker was started without --tls-port: a certificate can be reloaded, not added",
        );
      // Both checked before either is put in force: all or nothing.
      if (next.tls !== undefined) {
        tlsServer?.setSecureContext({ key: next.tls.key, cert: next.tls.cert });
        tally.certificateNotAfter = certificateDates(next.tls.cert).notAfter;
      }
      const access =
        next.auth !== undefined && rules !== undefined
          ? reapplyAccess(rules, next.auth, parts.aedes, parts.logger, tally)
          : { cut: 0, changed: 0 };
      outcome = {
        ok: true,
        ...access,
        ...(tally.certificateNotAfter !== undefined && next.tls !== undefined
          ? { certificateNotAfter: tally.certificateNotAfter }
          : {}),
      };
    } catch (err) {
      outcome = { ok: false, problem: err instanceof Error ? err.message : String(err) };
    }
    tally.lastReloadOk = outcome.ok;
    tally.reloads[outcome.ok ? "ok" : "failed"]++;
    return outcome;
  };
}
