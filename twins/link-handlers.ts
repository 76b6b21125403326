/**
 * What the twins service's connection tells the service (over MQTT.js, twins/broker-link.ts, or an
 * in-process wire, twins/wire-link.ts): each message, the steps of every (re)connect in their order
 * (subscribing, subscribed, ready), the broker lost and back, and what it finds of the broker.
 */
import type { Stall } from "../node/stall-watch.js";
import type { BrokerLoss } from "./broker-watch.js";
import type { MemberLoss } from "./member-loss.js";
import type { TwinsServiceInfo } from "./presence.js";
import type { BrokerDropped, RereadHandler } from "./types.js";

export interface BrokerLinkHandlers {
  /** One message from the broker; `qos` as delivered, `retained` when sent for a new subscription. */
  readonly message: (topic: string, payload: Buffer, qos: 0 | 1, retained: boolean) => void;
  /** After every (re)connect, before subscribing: the broker's retained messages are replayed next. */
  readonly subscribing: () => void;
  /**
   * After every (re)connect, once every subscription is granted (the last SUBACK in; told too when
   * one failed): a broker sends a subscription's retained messages right after its SUBACK, so the
   * replay is over or about to be. Its end is judged from here, not from `subscribing`: a broker or a
   * service slow to answer (a loaded host) left more than the quiet time before the first of it.
   */
  readonly subscribed: () => void;
  /** After every (re)connect, once subscribed and the presence is held; `again` after the first. */
  readonly ready: (again: boolean) => Promise<void>;
  /**
   * The broker was lost (false) after having been up, or is back (true). Lost `silent` (the connection
   * up, nothing heard for 5 s: twins/broker-probe.ts) or `lost` (the connection down); a silence that
   * ends with the connection dropping is told lost twice, first `silent` then `lost`. `lastHeardAt` is
   * when the broker was last heard from before the outage, on the service's scheduler. `stall`: the
   * service's own stall the outage is (node/stall-watch.ts StallOutage), not the broker's.
   */
  readonly connection: (up: boolean, lastHeardAt?: number, how?: BrokerLoss, stall?: Stall) => void;
  /** Who else holds a presence on the fleet changed (twins/other-services.ts); a service with a presence only. */
  readonly others: (services: readonly TwinsServiceInfo[]) => void;
  /** Messages the broker dropped, as they are found (twins/retained-echo.ts, twins/broker-drops.ts). */
  readonly dropped?: (what: BrokerDropped, count: number) => void;
  /** A replay the broker cut: the nodes whose topics are asked for again, and where it is told (twins/replay-reread.ts). */
  readonly replayCut?: RereadHandler;
  /** The broker restarted since the last connection (`before`: the last service's), made at `since` (twins/broker-restart.ts). */
  readonly restarted?: (since: number, how: string, before: boolean) => void;
  /** A member of the broker's cluster was lost, with the nodes on it (twins/member-loss.ts). */
  readonly memberLost?: (loss: MemberLoss) => void;
}
