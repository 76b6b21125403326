/**
 * The options the embedded broker gives Aedes: its store, its timeouts, the access hooks, and the
 * broker's own stall sense (broker/ready-io.ts), which the patched keepalive check asks
 * (patches/aedes+1.2.0.patch) so that a keepalive that came due while the broker did not run does
 * not cut a client frozen with it.
 */
import type { AedesOptions } from "aedes";
import type { Logger } from "pino";
import { type AccessRules, aclHooks, denySubscribeHook } from "./acl.js";
import type { ResolvedBrokerOptions } from "./options.js";
import type { BrokerStore } from "./persistence.js";
import type { JustStalled } from "./ready-io.js";

/** Aedes's options, with the patched keepalive check's `stalled` (read from `aedes.opts`). */
export type PatchedAedesOptions = AedesOptions & { readonly stalled?: JustStalled };

export function aedesOptions(
  opts: ResolvedBrokerOptions,
  store: BrokerStore,
  logger: Logger,
  rules: AccessRules | undefined,
  stalled: JustStalled,
): PatchedAedesOptions {
  return {
    persistence: store.persistence,
    ...(store.brokerId === undefined ? {} : { id: store.brokerId }),
    // mqemitter queues messages past `concurrency` in flight and drains that queue recursively: a
    // burst from thousands of clients (a fleet booting) overflowed the stack and took the broker
    // down. Unbounded, every message is dispatched at once; a slow client is bounded by its own
    // outbound queue (broker/outbound.ts).
    concurrency: 0,
    // Our streams never hold a write back for long (broker/outbound.ts), so aedes's own drain wait is
    // only ever a tick; the same timeout is kept as a backstop.
    drainTimeout: opts.drainTimeoutMs,
    connectTimeout: opts.connectTimeoutMs,
    maxInflightInbound: opts.maxInflightPerClient,
    stalled,
    ...accessHooks(opts, logger, rules),
  };
}

function accessHooks(
  opts: ResolvedBrokerOptions,
  logger: Logger,
  rules: AccessRules | undefined,
): Partial<AedesOptions> {
  const acl = rules ? aclHooks(rules, logger) : undefined;
  if (opts.denySubscribe.length === 0) return acl ?? {};
  return {
    ...acl,
    authorizeSubscribe: denySubscribeHook(opts.denySubscribe, logger, acl?.authorizeSubscribe),
  };
}
