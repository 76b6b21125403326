/**
 * The twins layer's public surface: the service, its store, the convergence function and the types
 * the console and the fleet runner use.
 */

export {
  type BrokerAwayHow,
  BrokerUnavailableError,
  type PairingOutcome,
  type Twins,
  TwinsCommandError,
} from "./api.js";
export { ACK_TIMEOUT_MS, storedUntilBack } from "./broker-away.js";
export { PROBE_EVERY_MS, type ProbedWatch, type ProbeOptions, probeBroker } from "./broker-probe.js";
export { type AwaySpan, AwaySpans } from "./broker-spans.js";
export { outlastedStall, serviceStalled } from "./broker-state-log.js";
export { type BrokerWaitStatus, REMIND_MS } from "./broker-wait.js";
export {
  type BrokerLoss,
  type BrokerState,
  type BrokerWatch,
  type BrokerWatchEvents,
  SILENCE_MS,
  type SilenceOptions,
  watchConnection,
} from "./broker-watch.js";
export { type Scheduler, type Timer, wallScheduler } from "./clock.js";
export { closedAtOnceError, connectClient, onClosedAtOnce } from "./closed-at-once.js";
export {
  BROKER_SCHEMES,
  BrokerConnectError,
  type BrokerLogin,
  type BrokerTls,
  bracketedIpv6,
  type ConnectFailure,
  connectError,
  connectTimeoutError,
  displayUrl,
  loginOptions,
  refusalText,
  splitBrokerUrl,
  urlPartsProblem,
  urlTextProblem,
} from "./connection.js";
export {
  type ConvergenceInput,
  type ConvergenceReport,
  computeConvergence,
  type FollowerSync,
  type SyncStatus,
} from "./convergence.js";
export { judgedCounts } from "./convergence-feed.js";
export { sameSet } from "./desire.js";
export type { RegistryEffect } from "./effects.js";
export { FLAP_WINDOW_MS, FLAPS_TOLD, flapLine } from "./flapping.js";
export { MINUTE_MS, MINUTES_KEPT, type MinutePoint } from "./minute-tier.js";
export {
  DEFAULT_MAX_NODES,
  type ResolvedTwinsOptions,
  resolveTwinsOptions,
  type TwinsOptions,
  TwinsOptionsError,
} from "./options.js";
export { replacedLine } from "./other-services.js";
export { FollowLimitError, type PairingPlan, planPairing } from "./pairing.js";
export { type PrefixNodes, prefixesShown } from "./prefix-look.js";
export {
  controlTopic,
  decodePresence,
  type FindTwinsOptions,
  findTwinsServices,
  PresenceLookUnfinished,
  type TwinsServiceInfo,
} from "./presence.js";
export { backOffRefusals, onRefusals, RETRY_REFUSALS } from "./refusal-backoff.js";
export { TwinRegistry } from "./registry.js";
export { type ReplayCutRead, WHOLE_TOPIC } from "./replay-cut.js";
export type { MarkerFate } from "./replay-marker.js";
export { shownShare } from "./reread-hold.js";
export { type ForgetOutcome, UnknownNodeError } from "./retire.js";
export { BoundedSeries } from "./series.js";
export { startTwins } from "./service.js";
export { StopWait } from "./stop-wait.js";
export {
  type DesiredRecord,
  jsonFileStore,
  memoryStore,
  STORE_FILE,
  type StoredState,
  type TwinsStore,
} from "./store.js";
export { openingTold } from "./store-open-wait.js";
export * from "./types.js";
