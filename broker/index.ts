/**
 * The broker layer's public surface: the embeddable broker, the `twinfleet broker` command, its
 * options and the access-control policy.
 */
export {
  type AccessPolicy,
  type AuthFailure,
  type AuthRequest,
  type AuthResult,
  aclHooks,
  canPublish,
  canSubscribe,
  denySubscribeHook,
  filterUnder,
  type Identity,
} from "./acl.js";
export { type BrokerCommandContext, runBrokerCommand } from "./command.js";
export {
  ConformanceError,
  type ConformanceLimits,
  connackFor,
  type GateResult,
  InboundGate,
  PacketValidator,
  topicFilterProblem,
  type Violation,
} from "./conformance.js";
export {
  type CredentialsFile,
  credentialsPolicy,
  hashPassword,
  loadCredentialsFile,
  parseCredentials,
} from "./credentials.js";
export {
  type BrokerFigures,
  CUT_REASONS,
  type CutReason,
  LISTENER_KINDS,
  type ListenerKind,
  REFUSAL_REASONS,
  type RefusalReason,
  type StoreHealth,
} from "./figures.js";
export { FrameLimitError, FrameLimitedStream, FrameScanner, type FrameViolation } from "./frame-limit.js";
export { bindAddresses, type HostLookup, isLoopbackAddress } from "./listen.js";
export {
  type BrokerCommandOptions,
  type BrokerOptions,
  BrokerOptionsError,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_CLIENT_ID_BYTES,
  DEFAULT_MAX_FILTERS_PER_SUBSCRIBE,
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_PORT,
  type ParsedBrokerCommand,
  parseBrokerCommandOptions,
  type ResolvedBrokerOptions,
  resolveBrokerOptions,
  type TlsOptions,
} from "./options.js";
export {
  type OutboundClock,
  OutboundGuard,
  OutboundLimitError,
  type OutboundLimits,
  type OutboundViolation,
} from "./outbound.js";
export { type RunningBroker, startBroker } from "./server.js";
export { BackupReader, type BackupSummary, backupStream } from "./store-backup.js";
