/**
 * The embedded broker: one Aedes instance behind plain TCP, optional TLS and optional WebSocket
 * listeners, every connection passed through the abuse limits (broker/abuse-guard.ts) and the frame
 * limit first. Owns start-up (with clear errors and no half-started leftovers), a clean shutdown,
 * and an abrupt one (kill) for fault injection.
 */
import type { IncomingMessage } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Server as TlsServer } from "node:tls";
import { Aedes, type AedesOptions } from "aedes";
import { type Logger, pino } from "pino";
import type { WebSocketServer } from "ws";
import { RealScheduler } from "../node/scheduler.js";
import { guardAedes } from "./abuse-guard.js";
import { AccessRules } from "./acl.js";
import type { PendingTicket } from "./admission.js";
import { aedesOptions } from "./aedes-options.js";
import { watchAedes } from "./client-errors.js";
import { InboundGate } from "./conformance.js";
import { ConnectWaits } from "./connect-budget.js";
import { type BrokerFigures, BrokerTally, brokerFigures, type ListenerKind } from "./figures.js";
import { FileReserve } from "./file-reserve.js";
import { FrameLimitedStream, type TrafficCounters } from "./frame-limit.js";
import { type IncomingStore, limitInbound } from "./inbound-limit.js";
import { bindAddresses, listenAt } from "./listen.js";
import { watchMembers } from "./member-beats.js";
import { type BrokerOptions, resolveBrokerOptions } from "./options.js";
import { pacedClients } from "./paced-clients.js";
import { type BrokerStore, openStore, type StoreOpenWait } from "./persistence.js";
import { brokerStalls } from "./ready-io.js";
import { certificateDates, type ReloadInput, type ReloadOutcome, reloader } from "./reload.js";
import { limitRetained, type RetainedStore } from "./retained-cap.js";
import { keepNoRetainedCommands } from "./retained-commands.js";
import { orderRetainedAnswers } from "./retained-order.js";
import { expireSessions, type SessionExpiry } from "./session-expiry.js";
import { limitSessionQueues, type OutgoingQueue } from "./session-queue.js";
import { silence } from "./silence.js";
import { scheduleStaleWills, type WillStore } from "./stale-wills.js";
import { publishStartId } from "./start-id.js";
import { TakeoverWatch } from "./takeovers.js";
import { loadTlsMaterial } from "./tls.js";
import { tlsListener } from "./tls-listener.js";
import { webSocketListener } from "./ws-listener.js";

export interface RunningBroker {
  /** Bound plain-MQTT port (the real one when 0 was asked for). */
  readonly port: number;
  readonly wsPort?: number;
  readonly tlsPort?: number;
  /** The addresses the listeners are bound to: --host, or every address its name resolves to. */
  readonly addresses: readonly string[];
  /** `mqtt://<host>:<port>` to connect to; a wildcard host is given as loopback. */
  readonly url: string;
  readonly wsUrl?: string;
  readonly tlsUrl?: string;
  readonly aedes: Aedes;
  /**
   * PUBLISH packets written to clients since the start (deliveries, retained and queued included),
   * and those read from them, by QoS, and the bytes each way.
   */
  readonly traffic: Readonly<TrafficCounters>;
  /** What `/metrics` and `/healthz` read: counts by listener and reason, clients, the store's health. */
  readonly figures: BrokerFigures;
  /** The files kept free at the open-files limit (broker/file-reserve.ts); none without a count. */
  readonly files: FileReserve | undefined;
  /**
   * Hands the broker a connection that came some other way than its listeners (the in-memory
   * transport of broker/port-listener.ts), from `address`: it goes through the same admission,
   * frame limit and conformance gate as an accepted socket, and kill() cuts it too.
   */
  accept(stream: Duplex, address: string): void;
  /**
   * Reads what `load` gives and puts it in force (docs/broker.md, Reloading): new access rules, which
   * cut the connections whose login no longer holds, and a new TLS key and certificate for new
   * handshakes. A `load` that throws, or a part this broker was not started with (`auth` without
   * access rules, `tls` without a TLS listener), changes nothing. Logged and counted either way.
   */
  reload(load: () => Promise<ReloadInput>): Promise<ReloadOutcome>;
  /** Closes listeners, every client socket (connected or not yet), aedes and the store. Idempotent. */
  close(): Promise<void>;
  /**
   * Stops the broker the way `kill -9` stops its process: listeners and every socket destroyed at
   * once, no will published and nothing else sent or stored; what the store had written stays. The
   * store is released and the port is free when this resolves, so a new broker can start at once on
   * the same port and data directory. Idempotent; after close() (or during it) it waits for close().
   */
  kill(): Promise<void>;
}

/** What has been started so far, so that a failed start and close() undo exactly that, in order. */
class Parts {
  store: BrokerStore | undefined;
  aedes: Aedes | undefined;
  /** Streams aedes has not registered yet (no CONNECT) are not closed by aedes.close(). */
  readonly connections = new Set<Duplex>();
  readonly servers: Server[] = [];
  /** Every accepted socket, TLS handshakes and WebSocket upgrades under way included (for kill). */
  readonly sockets = new Set<Socket>();
  wss: WebSocketServer | undefined;
  /** Stops the timers of the parts that keep one (the previous run's stale wills, a log window). */
  readonly stops: (() => void)[] = [];
  expiry: SessionExpiry | undefined;

  constructor(private readonly logger: Logger) {}

  addServer(server: Server): void {
    this.servers.push(server);
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  async close(): Promise<void> {
    // A store whose disk does not answer is told of from here: the wills and times below wait on it.
    this.store?.stopping?.();
    for (const stop of this.stops.splice(0)) stop();
    // Stop accepting first. A server's close callback fires only once its sockets are gone, so
    // wait for it after aedes and we have destroyed them; the store closes last, after the wills.
    const serversClosed = this.servers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    const wss = this.wss;
    const wssClosed = wss ? new Promise<void>((resolve) => wss.close(() => resolve())) : undefined;
    const aedes = this.aedes;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const c of this.connections) c.destroy();
    await Promise.all([...serversClosed, wssClosed]);
    // The clients' times are stored as they leave (a connected client's session was not away).
    await this.expiry?.finish();
    await this.closeStore();
  }

  async kill(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    this.expiry?.cancel();
    const aedes = this.aedes;
    if (aedes) silence(aedes, this.connections);
    const serversClosed = this.servers
      .splice(0)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    for (const c of this.connections) c.destroy();
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    const wss = this.wss;
    const wssClosed = wss ? new Promise<void>((resolve) => wss.close(() => resolve())) : undefined;
    // aedes.close() stops its timers (heartbeat, will clean-up) and lets its clients go; with the
    // wills dropped and publish() silenced, that sends and stores nothing. The store closes at the
    // same time: writes under way finish (LevelDB waits for them), later ones fail unheard.
    const aedesClosed = aedes ? new Promise<void>((resolve) => aedes.close(() => resolve())) : undefined;
    await Promise.all([this.closeStore(), aedesClosed, ...serversClosed, wssClosed]);
  }

  private async closeStore(): Promise<void> {
    try {
      await this.store?.close();
    } catch (err) {
      this.logger.error({ err }, "error while closing the store");
    }
  }
}

export async function startBroker(options: BrokerOptions = {}, wait?: StoreOpenWait): Promise<RunningBroker> {
  const opts = resolveBrokerOptions(options);
  const logger = opts.logger ?? pino({ level: "silent" });
  // Read TLS files before opening anything, so a bad file leaves nothing to clean up.
  const tlsMaterial = opts.tls ? await loadTlsMaterial(opts.tls.keyFile, opts.tls.certFile) : undefined;
  // A host name is looked up here, once: every listener binds each of its addresses.
  const addresses = await bindAddresses(opts.host, opts.lookup);
  const listen = (server: Server, port: number, what: string) =>
    listenAt(server, port, addresses, what, logger, (extra) => parts.addServer(extra));
  const parts = new Parts(logger);

  try {
    const store = await openStore(opts.dataDir, opts.redisUrl, logger, opts.scheduler, wait);
    parts.store = store;
    // Past opening it, Redis can still freeze: each step that waits on it is told and ended by a stop.
    const held = <T>(what: string, work: Promise<T>): Promise<T> =>
      wait === undefined || store.startWait === undefined ? work : wait.hold(store.startWait, what, work);
    const queues = await held(
      "counting the queued messages",
      limitSessionQueues(store.persistence as OutgoingQueue, opts, logger),
    );
    limitInbound(store.persistence as IncomingStore, opts.maxInflightPerClient, opts.maxInboundBytes);
    const tally = new BrokerTally();
    const retained = store.persistence as RetainedStore;
    if (store.retainedIndex)
      limitRetained(retained, store.retainedIndex, opts, logger, () => {
        tally.retainedRefused++;
      });
    const rules = opts.auth ? new AccessRules(opts.auth) : undefined;
    // The broker's own stalls (a SIGSTOP, a paused VM): its deadlines that came due in one are given again.
    const stalled = brokerStalls(opts.scheduler);
    const aedes = await held(
      "setting up its sessions and subscriptions over the store, publish and subscribe connections",
      Aedes.createBroker({
        ...aedesOptions(opts, store, logger, rules, stalled),
        ...(store.mq === undefined ? {} : { mq: store.mq as AedesOptions["mq"] }),
      }),
    );
    parts.aedes = aedes;
    // A client's later messages follow its subscriptions' retained answers (broker/retained-order.ts).
    const order = store.retainedIndex === undefined ? undefined : orderRetainedAnswers(aedes);
    if (store.retainedIndex !== undefined) store.retainedIndex.answered = order?.answered;
    const waits = new ConnectWaits(aedes, opts.scheduler, stalled);
    parts.stops.push(
      await held("clearing retained commands", keepNoRetainedCommands(retained, store.retainedIndex, logger)),
    );
    // Before the listeners: no client reads the previous run's id (broker/start-id.ts).
    if (store.kind !== "redis") await publishStartId(aedes);
    // A Redis cluster's members beat to each other: one lost is told within seconds (broker/member-beats.ts).
    else
      parts.stops.push(
        watchMembers(aedes, store.persistence as WillStore, opts.scheduler ?? new RealScheduler(), logger)
          .stop,
      );
    if (store.kind === "level")
      parts.stops.push(
        scheduleStaleWills(
          aedes,
          store.persistence as WillStore,
          opts.staleWillGraceMs,
          logger,
          waits,
          stalled,
        ),
      );
    const errorLog = watchAedes(aedes, logger, tally);
    parts.expiry = await held(
      "reading the sessions' times",
      expireSessions(store.persistence, aedes, opts, logger, () => tally.sessionsExpired++),
    );
    // Nothing left to wait on Redis for: told that it answered, if the wait was.
    wait?.done();
    const takeovers = new TakeoverWatch(aedes, logger, undefined, (repeated) => {
      tally.cut.takeover++;
      if (repeated) tally.takeoversRepeated++;
    });
    // After the store opened its files: the sockets may take the rest, less a reserve.
    const files = FileReserve.open(() => parts.sockets.size, opts.scheduler ?? new RealScheduler());
    const admitted = guardAedes(aedes, opts, logger, tally, files);
    const traffic = tally.traffic;
    // One client's flood is read at its budget's pace, not ahead of everyone else's traffic.
    const pacing = pacedClients(opts, logger, tally);

    const handle = (
      stream: Duplex,
      address: string | undefined,
      via: ListenerKind,
      req?: IncomingMessage,
      preAdmitted?: PendingTicket,
      acceptedAt?: number,
    ) => {
      const ticket = admitted.accept(stream, address, preAdmitted);
      if (ticket === undefined) return;
      // MQTT 3.1.1's MUSTs are checked on each whole packet on the same path (broker/conformance.ts).
      const gate = new InboundGate({
        maxClientIdBytes: opts.maxClientIdBytes,
        maxFiltersPerSubscribe: opts.maxFiltersPerSubscribe,
      });
      const limited = new FrameLimitedStream(
        stream,
        opts.maxPacketBytes,
        { maxQueuedBytes: opts.maxQueuedBytes, drainTimeoutMs: opts.drainTimeoutMs },
        gate,
        traffic,
        address,
        pacing,
      );
      tally.accept(limited, via);
      parts.connections.add(limited);
      limited.once("close", () => parts.connections.delete(limited));
      admitted.track(limited, address, ticket);
      takeovers.track(limited, address);
      const client = aedes.handle(limited, req);
      order?.clientOf(client);
      // Past a TLS handshake or a WebSocket upgrade: CONNECT has what is left of the time since accept.
      waits.start(client, acceptedAt ?? waits.clock.now(), opts.connectTimeoutMs);
    };

    const tcp = createNetServer((socket) => {
      // Messages are a few hundred bytes and latency is what the fleet measures.
      socket.setNoDelay(true);
      handle(socket, socket.remoteAddress, "mqtt");
    });
    parts.addServer(tcp);
    const port = await listen(tcp, opts.port, "MQTT");

    let tlsPort: number | undefined;
    let tlsServer: TlsServer | undefined;
    if (opts.tls && tlsMaterial) {
      tally.certificateNotAfter = certificateDates(tlsMaterial.cert).notAfter;
      tlsServer = tlsListener({
        key: tlsMaterial.key,
        cert: tlsMaterial.cert,
        connectTimeoutMs: opts.connectTimeoutMs,
        clock: waits.clock,
        logger,
        stalled,
        admit: (socket) => admitted.admitSocket(socket, socket.remoteAddress),
        handle: (socket, ticket, acceptedAt) =>
          handle(socket, socket.remoteAddress, "tls", undefined, ticket, acceptedAt),
        failed: (remote, detail) => {
          tally.refused["tls-handshake"]++;
          errorLog.refused(remote, detail);
        },
      });
      parts.addServer(tlsServer);
      tlsPort = await listen(tlsServer, opts.tls.port, "MQTT over TLS");
    }

    let wsPort: number | undefined;
    if (opts.wsPort !== undefined) {
      // Each raw socket is admitted on accept, before its upgrade; its ticket and accept time wait here.
      const upgrading = new WeakMap<object, { ticket: PendingTicket; acceptedAt: number }>();
      const { http, wss } = webSocketListener({
        maxPacketBytes: opts.maxPacketBytes,
        connectTimeoutMs: opts.connectTimeoutMs,
        stalled,
        clock: waits.clock,
        admit: (socket) => {
          const ticket = admitted.admitSocket(socket, socket.remoteAddress);
          if (ticket !== undefined) upgrading.set(socket, { ticket, acceptedAt: waits.clock.now() });
          return ticket !== undefined;
        },
        handle: (stream, req) => {
          const up = upgrading.get(req.socket);
          handle(stream, req.socket.remoteAddress, "ws", req, up?.ticket, up?.acceptedAt);
        },
        refused: (reason, remote, detail) => {
          if (reason !== undefined) tally.refused[reason]++;
          errorLog.refused(remote, detail);
        },
        serverError: (err) => logger.error({ err }, "WebSocket server error"),
      });
      parts.wss = wss;
      parts.addServer(http);
      wsPort = await listen(http, opts.wsPort, "WebSocket");
    }

    const host = urlHost(opts.host);
    logger.debug(
      { host: opts.host, port, tlsPort, wsPort, store: store.kind, auth: opts.auth !== undefined },
      "broker listening",
    );
    let ending: Promise<void> | undefined;
    const listening = () => ending === undefined;
    const figures = brokerFigures(aedes, tally, store, listening, opts.maxSessions, queues, opts.scheduler);
    return {
      port,
      addresses,
      url: `mqtt://${host}:${port}`,
      ...(tlsPort !== undefined ? { tlsPort, tlsUrl: `mqtts://${host}:${tlsPort}` } : {}),
      ...(wsPort !== undefined ? { wsPort, wsUrl: `ws://${host}:${wsPort}` } : {}),
      aedes,
      traffic,
      figures,
      files,
      accept: (stream, address) => handle(stream, address, "in-memory"),
      reload: reloader({ rules, tlsServer, aedes, logger, tally }),
      close() {
        ending ??= parts.close().then(() => logger.info("broker closed"));
        return ending;
      },
      kill() {
        ending ??= parts.kill().then(() => logger.warn("broker killed"));
        return ending;
      },
    };
  } catch (err) {
    wait?.done();
    await parts.close();
    throw err;
  }
}

function urlHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
