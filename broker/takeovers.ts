/**
 * Session takeovers: a client that connects with the id of one already connected takes its session
 * over, and the broker closes the older connection (MQTT-3.1.4-2). One now and then is a device back
 * before the broker noticed it gone. The same id taken over again and again is two clients with one
 * id — two fleets on one broker, two boards flashed alike — each closing the other as it reconnects:
 * that is logged as a warning naming the id and the addresses, at most once a minute per id. Two
 * whole fleets with one set of ids would make one warning per node: past the first few ids in a
 * minute, the rest are summed in one warning at the minute's end. Each takeover is counted for
 * `/metrics`, and told apart: `repeated` when the same id was taken over already within
 * TAKEOVER_WINDOW_MS — the harmful kind, two live clients closing each other — where a first one is
 * most often harmless, a device back before the broker noticed its old connection gone.
 */
import type { Duplex } from "node:stream";
import type { Aedes, Client } from "aedes";
import type { Logger } from "pino";
import { Bursts, WarningDigest } from "../protocol/index.js";
import { type OutboundClock, systemClock } from "./outbound.js";

/** This many takeovers of one id within the window make the warning. */
export const TAKEOVERS_WARNED = 3;
export const TAKEOVER_WINDOW_MS = 30_000;
/** An id warned about is not warned about again for this long. */
const REWARN_MS = 60_000;
/** Ids followed at most (the oldest forgotten first): a flood of fresh ids costs no more. */
const MAX_IDS = 10_000;
/** Ids warned about one by one within a minute; those after are summed. */
export const WARNED_ONE_BY_ONE = 5;
/** Ids and addresses a summed warning names (it counts them all). */
const NAMED = 10;

/** The aedes internals a takeover is seen in: the clients by id, and registering a new one. */
interface Registry {
  readonly clients: Record<string, Client | undefined>;
  registerClient(client: Client): void;
}

/** The ids past the one-by-one ones in a minute, and their addresses: the first NAMED of each. */
interface Summed {
  readonly ids: string[];
  readonly addresses: Set<string>;
}

export class TakeoverWatch {
  readonly #addresses = new WeakMap<object, string>();
  readonly #bursts = new Bursts<string>(TAKEOVERS_WARNED, TAKEOVER_WINDOW_MS, REWARN_MS, MAX_IDS);
  /** Two takeovers of one id within the window, told every time (no wait between tellings). */
  readonly #repeats = new Bursts<string>(2, TAKEOVER_WINDOW_MS, 0, MAX_IDS);
  /** The first ids of a minute warned one by one, the rest summed at its end (ids and addresses named). */
  readonly #digest: WarningDigest<Summed>;

  constructor(
    aedes: Aedes,
    private readonly logger: Logger,
    private readonly clock: OutboundClock = systemClock,
    /** Told of each takeover, and whether its id was taken over already within the window (`/metrics`). */
    private readonly onTakeover: (repeated: boolean) => void = () => {},
  ) {
    this.#digest = new WarningDigest(
      WARNED_ONE_BY_ONE,
      REWARN_MS,
      {
        now: () => clock.now(),
        // Unreferenced (systemClock): a broker closing meanwhile is not kept open by it.
        later: (ms, fn) => {
          const handle = clock.setTimeout(fn, ms);
          return { cancel: () => clock.clearTimeout(handle) };
        },
      },
      (): Summed => ({ ids: [], addresses: new Set() }),
      (summed, count) => this.warnSummed(summed, count),
    );
    const registry = aedes as unknown as Registry;
    const register = registry.registerClient.bind(aedes);
    registry.registerClient = (client: Client) => {
      const old = registry.clients[client.id];
      if (old !== undefined && old !== client) this.takenOver(client.id, old, client);
      register(client);
    };
  }

  /** Where a connection comes from (the address is not on the stream aedes gets). */
  track(conn: Duplex, address: string | undefined): void {
    if (address !== undefined) this.#addresses.set(conn, address);
  }

  private takenOver(id: string, old: Client, by: Client): void {
    const now = this.clock.now();
    this.onTakeover(this.#repeats.hit(id, now) !== undefined);
    const withinMs = this.#bursts.hit(id, this.clock.now());
    if (withinMs === undefined) {
      this.logger.debug({ clientId: id }, "session taken over by a new connection");
      return;
    }
    // The two connections of this takeover: the clients that keep taking the id from each other.
    const addresses = new Set<string>();
    for (const c of [old, by]) {
      const a = this.#addresses.get(c.conn as object);
      if (a !== undefined) addresses.add(a);
    }
    const summed = this.#digest.hit();
    if (summed === undefined) {
      this.logger.warn(
        {
          clientId: id,
          takeovers: TAKEOVERS_WARNED,
          withinS: Math.round(withinMs / 100) / 10,
          addresses: [...addresses],
        },
        "client id taken over again and again: two clients are using it, and each connection closes the other's",
      );
      return;
    }
    if (summed.ids.length < NAMED) summed.ids.push(id);
    for (const a of addresses) if (summed.addresses.size < NAMED) summed.addresses.add(a);
  }

  private warnSummed({ ids, addresses }: Summed, count: number): void {
    this.logger.warn(
      { clientIds: count, first: ids, addresses: [...addresses] },
      `${count} more client ids taken over again and again within the minute, besides the ${WARNED_ONE_BY_ONE} named one by one: another fleet with the same ids, or a set of boards flashed alike`,
    );
  }
}
