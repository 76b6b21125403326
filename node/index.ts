/**
 * The node layer's public surface: the protocol core, the simulated node (device model, link,
 * PubSubClient) and what a fleet runner needs around it — profiles, schedulers, events and stats.
 */
export { Board, type BoardOptions } from "./board.js";
export {
  type CoreInput,
  type CoreOutput,
  NodeCore,
  type NodeCoreConfig,
  type NodeCoreState,
  type SyncPhase,
} from "./core.js";
export { Link, LinkPath, type LinkStats, type PathStats } from "./link.js";
export {
  attemptLossFromPacketLoss,
  LossProcess,
  type LossSpec,
  lossSpecSchema,
  meanLoss,
  NO_LOSS,
} from "./loss.js";
export type {
  ConnectFailure,
  CpuStats,
  DisconnectReason,
  MqttStats,
  NodeEvent,
  NodeEventSink,
  NodeStats,
} from "./metrics.js";
export { type PressPlan, pressPlanSchema } from "./presses.js";
export { type DeviceProfile, loadProfile, PROFILES_DIR, ProfileError, parseProfile } from "./profile.js";
export { checkRam, type RamBudget, RamBudgetError, ramBudget } from "./ram.js";
export { type RetryPolicy, retransmissionDistribution, rtoAfter, timeoutAfter } from "./retransmit.js";
export { nodeRandom, type Random } from "./rng.js";
export {
  after,
  every,
  FakeScheduler,
  RealScheduler,
  type Scheduler,
  sleep,
  type Timer,
} from "./scheduler.js";
export {
  SimNode,
  type SimNodeConfig,
  SimNodeConfigError,
  type SimNodeOptions,
  simNodeConfigSchema,
} from "./sim-node.js";
export { tcpWire, type Wire, type WireFactory, type WireHandlers } from "./wire.js";
