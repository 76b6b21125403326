/**
 * A stand-in for the twins service with its shape, for the live-fleet source's tests: two nodes, b
 * (offline) following a, and every command it is sent recorded.
 */
import { EventEmitter } from "node:events";
import { NodeId } from "../../protocol/index.js";
import type { ConvergenceReport, PairingOutcome, SeriesPoint, Twin, TwinsEvents } from "../../twins/index.js";
import type { TwinsView } from "../twins-source.js";

export const a = NodeId("a");
export const b = NodeId("b");

export function twin(id: NodeId, over: Partial<Twin> = {}): Twin {
  return {
    id,
    kind: "real",
    profile: "uno-w5100",
    firmware: "1.0.0",
    presence: "online",
    desired: { sources: [], configVersion: 0 },
    follows: [],
    followers: [],
    pairing: "confirmed",
    pairingInSync: true,
    version: 1,
    ...over,
  };
}

export class FakeTwins extends EventEmitter<TwinsEvents> implements TwinsView {
  twins = new Map<NodeId, Twin>([
    [a, twin(a, { followers: [b], reported: { on: true, stamp: { counter: 3, origin: a } } })],
    [b, twin(b, { kind: "sim", follows: [a], presence: "offline" })],
  ]);
  calls: string[] = [];
  list = () => [...this.twins.values()];
  get = (id: string) => this.twins.get(NodeId(id));
  presenceOf = (id: NodeId) => this.twins.get(id)?.presence;
  convergence = (): ConvergenceReport => ({
    followers: [{ id: b, status: "behind", stamp: undefined, target: undefined, waitingOn: [a] }],
    inSync: 0,
    known: 1,
    fraction: 0,
  });
  history = (): SeriesPoint[] => [{ t: 1, fraction: 0, inSync: 0, known: 1 }];
  badInputOf = () => 2;
  set = async (id: string, on: boolean) => {
    this.calls.push(`set ${id} ${on}`);
    return 7;
  };
  pair = async (f: string, s: string): Promise<PairingOutcome> => {
    this.calls.push(`pair ${f} ${s}`);
    return { sent: true };
  };
  unpair = async (f: string, s: string): Promise<PairingOutcome> => {
    this.calls.push(`unpair ${f} ${s}`);
    return { sent: true };
  };
  query = async () => {
    this.calls.push("query");
  };
}
