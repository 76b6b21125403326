/**
 * The network link between a node and the broker: the loss processes and cable state that persist
 * across connections, the TCP handshake, and the two directions of each connection
 * (node/link-path.ts), with each end's TCP (the W5100's or Linux's, node/tcp-sender.ts). Loss may
 * change while running.
 */
import { LinkPath, type PathHooks, type PathStats } from "./link-path.js";
import { LossProcess, type LossSpec, NO_LOSS } from "./loss.js";
import { type RetryPolicy, rtoAfter } from "./retransmit.js";
import type { Random } from "./rng.js";
import type { Scheduler } from "./scheduler.js";
import { FIXED_SIDE, type TcpSide } from "./tcp-side.js";

export { LinkPath, type PathHooks, type PathStats } from "./link-path.js";

export type ConnectionHooks = Omit<PathHooks, "upAt">;

export interface LinkStats {
  readonly up: PathStats;
  readonly down: PathStats;
  handshakes: number;
  synRetransmissions: number;
  handshakeFailures: number;
  /** Connections that died because a side ran out of retransmissions. */
  timeouts: number;
}

export interface LinkOptions {
  readonly sched: Scheduler;
  /** The node's side: the W5100's RTR, cap and RCR, or with a Linux `nodeTcp` its RTO floor, cap, retries. */
  readonly nodePolicy: RetryPolicy;
  /** The broker's side (Linux). */
  readonly brokerPolicy: RetryPolicy;
  readonly latencyMs: number;
  readonly connectTimeoutMs: number;
  readonly randUp: Random;
  readonly randDown: Random;
  readonly loss?: LossSpec;
  /** An ideal link ignores loss and cable pulls. */
  readonly lossFree?: boolean;
  /** Each end's TCP (default: fixed RTR, no Nagle, ACKs at once). */
  readonly nodeTcp?: EndTcp;
  readonly brokerTcp?: EndTcp;
  /** ACKs travel the reverse direction and are lost like its data (default: never lost). */
  readonly ackLoss?: boolean;
  /** The node's SYN schedule (default: nodePolicy until connectTimeoutMs). */
  readonly synPolicy?: RetryPolicy;
}

/** One end of the connection: how it sends, and how it ACKs what it receives (its delayed ACK). */
export type EndTcp = TcpSide;

export type HandshakeResult =
  | { readonly ok: true; readonly at: number }
  | { readonly ok: false; readonly at: number };

/**
 * The node's link: the loss processes and cable state persist across connections; `connect` makes
 * the two paths of a new TCP connection.
 */
export class Link {
  readonly stats: LinkStats = {
    up: { segments: 0, bytes: 0, retransmissions: 0, timeouts: 0, windowStalls: 0 },
    down: { segments: 0, bytes: 0, retransmissions: 0, timeouts: 0, windowStalls: 0 },
    handshakes: 0,
    synRetransmissions: 0,
    handshakeFailures: 0,
    timeouts: 0,
  };
  private readonly lossUp: LossProcess;
  private readonly lossDown: LossProcess;
  /** Cable pulls: [from, to) intervals, `to` = Infinity while still out. */
  private outages: { from: number; to: number }[] = [];

  constructor(private readonly opts: LinkOptions) {
    const spec = opts.lossFree ? NO_LOSS : (opts.loss ?? NO_LOSS);
    this.lossUp = new LossProcess(spec, opts.randUp);
    this.lossDown = new LossProcess(spec, opts.randDown);
  }

  setLoss(spec: LossSpec): void {
    if (this.opts.lossFree) return;
    this.lossUp.set(spec);
    this.lossDown.set(spec);
  }

  get loss(): LossSpec {
    return this.lossUp.current;
  }

  /** The one-way latency of a transmission that gets through. */
  get latencyMs(): number {
    return this.opts.latencyMs;
  }

  pullCable(at: number): void {
    if (this.opts.lossFree || !this.cableIn) return;
    this.outages.push({ from: at, to: Number.POSITIVE_INFINITY });
  }

  plugCable(at: number): void {
    const last = this.outages[this.outages.length - 1];
    if (last !== undefined && last.to === Number.POSITIVE_INFINITY) last.to = at;
    // Old outages only matter for segments still in flight; a minute of history is plenty.
    this.outages = this.outages.filter((o) => o.to > at - 600_000);
  }

  get cableIn(): boolean {
    const last = this.outages[this.outages.length - 1];
    return last === undefined || last.to !== Number.POSITIVE_INFINITY;
  }

  upAt(at: number): boolean {
    for (const o of this.outages) if (at >= o.from && at < o.to) return false;
    return true;
  }

  /**
   * The TCP handshake started at `at`: SYNs go at the W5100's doubling RTR until the
   * EthernetClient connect timeout, or on `synPolicy` (Linux: TCP_TIMEOUT_INIT 1 s doubling,
   * tcp_syn_retries) until its last wait or the connect timeout, whichever is first; a SYN gets
   * through when neither it nor the SYN-ACK is lost (folded into one per-attempt loss) and the
   * cable is in.
   */
  handshake(at: number): HandshakeResult {
    this.stats.handshakes++;
    const { nodePolicy, connectTimeoutMs, latencyMs } = this.opts;
    const syn = this.opts.synPolicy ?? nodePolicy;
    const lastSyn = this.opts.synPolicy ? syn.retries : Number.POSITIVE_INFINITY;
    let t = at;
    for (let k = 0; t < at + connectTimeoutMs && k <= lastSyn; k++) {
      if (this.upAt(t) && !this.lossUp.lost()) return { ok: true, at: t + 2 * latencyMs };
      this.stats.synRetransmissions++;
      t += rtoAfter(syn, k);
    }
    this.stats.handshakeFailures++;
    return { ok: false, at: Math.min(t, at + connectTimeoutMs) };
  }

  /**
   * The two directions of a new connection. The up path hands segments to the broker's real
   * socket, so it delivers at the exact instant; the down path ends in the model.
   */
  connect(up: ConnectionHooks, down: ConnectionHooks): { up: LinkPath; down: LinkPath } {
    const { sched, nodePolicy, brokerPolicy, latencyMs } = this.opts;
    const upAt = (t: number) => this.upAt(t);
    const wrap = (h: ConnectionHooks): PathHooks => ({
      deliver: h.deliver,
      upAt,
      timedOut: (t) => {
        this.stats.timeouts++;
        h.timedOut(t);
      },
    });
    const node = this.opts.nodeTcp ?? FIXED_SIDE;
    const broker = this.opts.brokerTcp ?? FIXED_SIDE;
    // A direction's sender is one end, its ACKs come from the other end over the reverse direction.
    // Linux's Loss state as it retransmits, the RTT sample of the ACK carried by data (the timestamp
    // it echoes, of the segment it acknowledges), the partial ACK in the Loss state, the head's ACK
    // covering a later segment already in, and the tail loss probe sending the later segment with
    // RACK sending the head again on its SACK or a later one's: on a Linux node's connection only (a
    // W5100's keeps its broker side as calibrated).
    const rules = {
      rtoHeadAlone: node.linux,
      dataAckRtt: node.linux,
      tsEcho: node.linux,
      partialAck: node.linux,
      headAckCovers: node.linux,
      probeLast: node.linux,
      heldSample: node.linux,
      probeRack: node.linux,
      sackRack: node.linux,
      bbrCwnd: node.linux,
      bbrCwndKept: node.linux,
    };
    const upSide: TcpSide = {
      linux: node.linux,
      nagle: node.nagle,
      delayedAckMs: broker.delayedAckMs,
      ...rules,
    };
    const downSide: TcpSide = {
      linux: broker.linux,
      nagle: broker.nagle,
      delayedAckMs: node.delayedAckMs,
      ...rules,
    };
    const acks = this.opts.ackLoss === true;
    const paths = {
      up: new LinkPath(
        sched,
        nodePolicy,
        this.lossUp,
        latencyMs,
        wrap(up),
        this.stats.up,
        true,
        upSide,
        acks ? this.lossDown : undefined,
      ),
      down: new LinkPath(
        sched,
        brokerPolicy,
        this.lossDown,
        latencyMs,
        wrap(down),
        this.stats.down,
        false,
        downSide,
        acks ? this.lossUp : undefined,
      ),
    };
    // Each direction's data carries the cumulative ACK of the other's (RFC 793 §3.7): a sender whose
    // pure ACKs were lost has it when the other end's next data arrives. Linux nodes only: a W5100's
    // connection keeps the datasheet's node and the broker's side as it was calibrated.
    if (node.linux) {
      paths.up.reverse = paths.down;
      paths.down.reverse = paths.up;
    }
    return paths;
  }
}
