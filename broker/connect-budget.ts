/**
 * One `--connect-timeout` from TCP accept to CONNECT on every listener. Aedes starts its wait for
 * CONNECT when it is handed a stream; on the TLS and WebSocket listeners that is after the handshake
 * or the upgrade, which had the whole timeout of their own, so a slow client held its socket for
 * nearly twice the limit (a WebSocket upgrade done at 1.8 s and CONNECT at 3.5 s was answered under a
 * 2 s timeout). Its wait is shortened here to what is left of the budget since accept.
 */
import type { Client } from "aedes";

/** aedes's own error for a CONNECT that did not come in time (lib/client.js): counted as connect-timeout. */
export const CONNECT_TIMEOUT = "connect did not arrive in time";

/** aedes's pending CONNECT wait (lib/client.js; its CONNECT handler and close clear it). */
interface ConnectWait {
  _connectTimer: ReturnType<typeof setTimeout> | null;
}

/**
 * Makes `client`'s wait for CONNECT end `timeoutMs` after `acceptedAt` (performance.now() when its
 * raw socket was accepted) instead of a whole `timeoutMs` from now; at once if that is past.
 */
export function connectBy(client: Client, acceptedAt: number, timeoutMs: number): void {
  const wait = client as unknown as ConnectWait;
  if (wait._connectTimer === null) return;
  clearTimeout(wait._connectTimer);
  const left = Math.max(0, timeoutMs - (performance.now() - acceptedAt));
  wait._connectTimer = setTimeout(() => client.emit("error", new Error(CONNECT_TIMEOUT)), left);
}
