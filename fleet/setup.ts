/**
 * What a fleet run needs before its nodes boot: the device profile, the node ids and their pairing,
 * the fault schedule (checked against the run), the broker (started, or someone else's), and the
 * twins service with the fleet's pairing desired. Fails early, naming the problem, and leaves
 * nothing running when it fails.
 */
import type { Logger } from "pino";
import { dataDirError, makeDir } from "../node/make-dir.js";
import { readOpenFiles } from "../node/open-files.js";
import { type DeviceProfile, loadProfile, ProfileError } from "../node/profile.js";
import { checkRam, RamBudgetError } from "../node/ram.js";
import { after, type Scheduler } from "../node/scheduler.js";
import { stallWatchOf } from "../node/stall-watch.js";
import { type NodeId, Prefix } from "../protocol/index.js";
import { buildPairing, fleetIds, type Pairing, PairingFileError, readPairingFile } from "../sim/topology.js";
import {
  DEFAULT_MAX_NODES,
  findTwinsServices,
  jsonFileStore,
  memoryStore,
  startTwins,
  type Twins,
  type TwinsServiceInfo,
  type TwinsStore,
} from "../twins/index.js";
import { type BrokerMoveWatch, type NodeBrokerAt, nodesBrokerAt } from "./broker-address.js";
import { type BrokerHost, nodesOverTcp, openBrokerHost } from "./broker-host.js";
import { type BrokerProbe, heardWithin, openBrokerProbe } from "./broker-probe.js";
import { lookForControllers } from "./controller-look.js";
import type { FaultEntry } from "./faults/schedule.js";
import { claimFleet, type FleetClaim } from "./fleet-claim.js";
import {
  BrokerSilences,
  FleetStartStoppedError,
  offlineWaitMs,
  refuseIdsInUse,
  twinsPresence,
  unlessStopped,
} from "./ids-in-use.js";
import { KernelBroker, type KernelLossNet } from "./kernel-loss.js";
import { checkOpenFiles } from "./open-files.js";
import { fleetOptionError, type ResolvedFleetOptions } from "./options.js";
import { OwnBesideWatch } from "./own-beside.js";
import { applyProfileOverrides } from "./profile-overrides.js";
import { type RegistrationSource, twinsSource } from "./registrations.js";
import { replacedPairingsLine } from "./replaced-pairings.js";
import { clearRetained, writePairing } from "./setup-retained.js";
import type { StartControl } from "./start-control.js";
import { startDeaths } from "./thread-death.js";
import { TwinsHost } from "./twins-host.js";
import { retainedSettled } from "./waits.js";

export interface FleetParts {
  readonly profile: DeviceProfile;
  readonly ids: readonly NodeId[];
  readonly pairing: Pairing;
  readonly faults: readonly FaultEntry[];
  readonly broker: BrokerHost;
  /** The run's twins service (its own or one it joined); none in a virtual run without twins. */
  readonly twins?: TwinsHost;
  /** Where registrations and the twins' view of the fleet come from. */
  readonly source: RegistrationSource;
  /** The twins service already on the broker that the run joined instead of starting its own. */
  readonly joined?: TwinsServiceInfo;
  /** Real-loss mode: the namespace and nftables rules that lose the nodes' packets. */
  readonly kernelLoss?: KernelLossNet;
  /** For a broker outside the run's process: a probe that tells it frozen within seconds. */
  readonly probe?: BrokerProbe;
  /** The run's own twins service: the other services seen beside it mid-run. */
  readonly ownBeside?: OwnBesideWatch;
  /** On someone else's broker: the run's claim on its ids, held until it ends. */
  readonly claim?: FleetClaim;
  /** Where the nodes connect over TCP (fleet/broker-address.ts); none on virtual time. */
  readonly nodesAt?: NodeBrokerAt & { readonly moves?: BrokerMoveWatch };
}

/** A bad pairing file is a bad `topology`: the message names the file, the line and the problem. */
function readPairingOption(file: string, ids: readonly NodeId[]): Pairing {
  try {
    return readPairingFile(file, ids);
  } catch (e) {
    if (e instanceof PairingFileError) throw fleetOptionError("topology", e.message);
    throw e;
  }
}

/** The fleet itself, whatever its clock: the profile (with its overrides), the node ids, the pairing. */
export function planFleet(opts: ResolvedFleetOptions): {
  profile: DeviceProfile;
  ids: readonly NodeId[];
  pairing: Pairing;
} {
  const loaded = loadProfile(opts.profile);
  const profile = opts.profileOverrides ? applyProfileOverrides(loaded, opts.profileOverrides) : loaded;
  // A board that cannot hold the profile's buffers is a bad profile, told before anything starts
  // (each node would refuse it as it powers on, with the run under way).
  try {
    checkRam(profile);
  } catch (e) {
    if (e instanceof RamBudgetError) throw new ProfileError(e.message);
    throw e;
  }
  const ids = fleetIds(opts.nodes, opts.idBase);
  const pairing =
    typeof opts.topology === "string"
      ? buildPairing(ids, {
          kind: opts.topology,
          groupSize: opts.groupSize,
          follows: opts.follows,
          seed: opts.seed,
        })
      : readPairingOption(opts.topology.file, ids);
  return { profile, ids, pairing };
}

/** Makes `dir` (when given), or throws what the broker or the twins store would have said of it. */
function makeDataDir(dir: string | undefined): void {
  if (dir === undefined) return;
  try {
    makeDir(dir);
  } catch (err) {
    throw dataDirError(dir, err);
  }
}

/** `opts` has been through resolveFleetOptions: what is left to check needs files or the broker. */
export async function prepareFleet(
  opts: ResolvedFleetOptions,
  logger: Logger,
  scheduler: Scheduler,
  /** Its stop ends the step under way (a wait for ids in use, a broker's answer); its steps are told. */
  start: StartControl = {},
): Promise<FleetParts> {
  const { signal: stop } = start;
  const step = (what: string) => start.step?.(what);
  const startedAt = scheduler.now();
  const { profile, ids, pairing } = planFleet(opts);
  // Nodes over TCP take a socket each, under the process's open-files limit: checked before anything starts.
  if (nodesOverTcp(opts)) checkOpenFiles(opts.nodes, opts.workers, readOpenFiles());
  const faults = opts.faults;
  const prefix = Prefix(opts.prefix);
  // The run's own data directories, made before its broker starts: one that cannot be made is refused
  // at once, not after a broker thread (or process) has started on it and been stopped again.
  if (opts.broker === undefined) for (const dir of [opts.brokerData, opts.twinsData]) makeDataDir(dir);
  step(opts.broker !== undefined ? "connecting to the broker" : "starting the run's broker");
  const broker =
    opts.lossMode === "kernel"
      ? await KernelBroker.start(opts.brokerData, scheduler, opts.lossPct, logger)
      : await openBrokerHost({
          ...(opts.broker !== undefined ? { url: opts.broker } : {}),
          ...(opts.brokerProcess ? { process: true } : {}),
          ...(opts.brokerData !== undefined ? { dataDir: opts.brokerData } : {}),
          logger,
          scheduler,
        });
  const deaths = startDeaths(broker, () => (scheduler.now() - startedAt) / 1000);
  let twins: TwinsHost | undefined;
  let probe: BrokerProbe | undefined;
  let claim: FleetClaim | undefined;
  const openProbe = (joined: TwinsServiceInfo | undefined) => {
    step("connecting the run's broker probe");
    return openBrokerProbe(
      broker.url,
      opts.login,
      prefix,
      scheduler,
      (e) => logger.debug({ err: e }, "broker probe connection error"),
      (line) => logger.warn(line),
      joined && { service: joined, log: { warn: (l) => logger.warn(l), info: (l) => logger.info(l) } },
      stop,
    );
  };
  try {
    // On someone else's broker a twins service may already control the fleet: a second controller
    // would fight it, so the run watches that one instead (and pairs like any other control tool).
    const lookUpAll = async () =>
      broker.kind === "external"
        ? await lookForControllers(
            (timeoutMs) =>
              findTwinsServices(broker.url, prefix, {
                timeoutMs,
                scheduler,
                ...opts.login,
                ...(stop ? { signal: stop } : {}),
              }).catch((e: unknown) => {
                // Stopped while it looked (up to 11 s on a broker that does not answer): ended there.
                if (stop?.aborted)
                  throw new FleetStartStoppedError(stop.reason, "looking for the fleet's twins service");
                throw e;
              }),
            (line) => logger.warn(line),
          )
        : [];
    if (broker.kind === "external") step("looking for the fleet's twins service on the broker");
    const found = await lookUpAll();
    let existing = found[0];
    // Two controllers already: the run joins one and says so (its watch tells the others again).
    if (found.length > 1)
      logger.warn(
        `${found.length} twins services control the fleet on ${broker.url} (${found.map((s) => s.clientId).join(", ")}): each sends its own pairings and sets, and they undo each other's; this run joins ${found[0]?.clientId}`,
      );
    if (existing && faults.some((f) => f.kind === "twins-restart")) {
      throw fleetOptionError(
        "faults",
        `a twins-restart needs the run's own twins service, but ${existing.clientId} already runs on ${broker.url} and the run joins it`,
      );
    }
    if (existing && opts.twinsData !== undefined) {
      throw fleetOptionError(
        "twinsData",
        `${existing.clientId} already runs on ${broker.url}; the run joins it`,
      );
    }
    if (opts.broker !== undefined && opts.fresh) {
      step("clearing the fleet's retained state (--fresh)");
      await clearRetained(broker.url, opts.login, prefix, ids, stop);
    }
    const store: TwinsStore =
      opts.twinsData !== undefined ? await jsonFileStore(opts.twinsData, logger) : memoryStore();
    const openTwins = (created: (t: Twins) => void, again: boolean) =>
      startTwins(
        {
          url: broker.url,
          ...opts.login,
          prefix,
          logger,
          // The run's clock for the twins' times (their presence's date is the scheduler's wallNow()).
          scheduler,
          store,
          // Room for the fleet, and as many again for whatever else shares the broker.
          maxNodes: Math.max(DEFAULT_MAX_NODES, 2 * opts.nodes),
          // The run probes a broker outside its process with a client of its own (below), twins or
          // not; its own broker cannot freeze without the run, and a busy run's late echo is no outage.
          probe: false,
          // Beside the fleet's controller it only watches, and queries when its link comes back: the
          // nodes that synced while it was away registered unheard, and would be counted never back.
          ...(existing ? { passive: true, queryOnReconnect: true } : {}),
          // Started again (a twins-restart), it may find the broker away (a broker-restart at the
          // same time): it waits for it, as `twinfleet twins` does, instead of failing the fault.
          ...(again ? { waitForBroker: true } : {}),
        },
        created,
      );
    // Stopped while it connects (up to 10 s on a broker that does not answer): ended there.
    const startTwinsHost = () =>
      TwinsHost.start(openTwins, stop).catch(async (e: unknown) => {
        // The data directory's lock is let go however the start ended (a stop that came as the
        // store was opened, before a service was made to close it, left it held).
        await store.close().catch(() => {});
        if (stop?.aborted) throw new FleetStartStoppedError(stop.reason, "starting the run's twins service");
        throw e;
      });
    step(existing ? `joining the twins service ${existing.clientId}` : "starting the run's twins service");
    twins = await startTwinsHost();
    if (broker.kind === "external") {
      step("reading the fleet's retained state on the broker");
      const host = twins;
      await retainedSettled(scheduler, (message) => {
        host.on("twin-updated", message);
        return () => host.off("twin-updated", message);
      });
      // Another fleet or a board online with these ids: each connection would take the other's over.
      const where = { url: broker.url, prefix, fleet: ids.length };
      const waitMs = offlineWaitMs(profile.mqtt.keepaliveS);
      // The claim given up (fleet/claim-clears.ts) is an ERROR: the ids are unclaimed from then on.
      const warn = (l: string, level?: "error") => (level === "error" ? logger.error(l) : logger.warn(l));
      // Probed from before the check: a broker that answers nothing (stopped, hung) publishes no will,
      // and its silence is no time the ids stayed online. (Its watch of a joined service starts once
      // the service is known live, below: during the wait it may be a dead run's, its will to come.)
      probe = await openProbe(undefined);
      await unlessStopped(
        heardWithin(probe.heard, scheduler, 2_000),
        stop,
        "connecting the run's broker probe",
      );
      let silences = new BrokerSilences(probe.watch, () => scheduler.now());
      step(`checking that the fleet's ${ids.length} ids are offline on the broker`);
      const presence = twinsPresence(host);
      const stalls = stallWatchOf(scheduler);
      const waited = await refuseIdsInUse(
        where,
        ids,
        presence,
        waitMs,
        scheduler,
        warn,
        stop,
        stalls,
        silences,
      );
      // The ids went offline by their wills: the fleet and its controller may have gone down together
      // (a power cut of their host), and the twins service found was the dead run's, its presence
      // kept as long as its nodes' statuses. Its will goes out with theirs, not always first: looked
      // for again a moment later, and gone, the run controls the fleet itself.
      // Another service beside it (started again elsewhere) is the fleet's controller: joined instead.
      if (waited && existing) {
        const found = existing;
        await new Promise<void>((resolve) => after(scheduler, STALE_PRESENCE_MS, resolve));
        const now = await lookUpAll();
        if (!now.some((s) => s.clientId === found.clientId)) {
          const gone = `the twins service ${found.clientId} found on the broker has gone (its presence was left by a run that lost power)`;
          existing = now[0];
          if (existing !== undefined) {
            logger.warn(`${gone}: this run joins ${existing.clientId}, which controls the fleet`);
          } else {
            logger.warn(`${gone}: this run controls the fleet itself`);
            await host.close();
            twins = await startTwinsHost();
          }
        }
      }
      if (existing) {
        await probe.close();
        probe = undefined;
        probe = await openProbe(existing);
        silences = new BrokerSilences(probe.watch, () => scheduler.now());
      }
      // Another run that found the ids offline at the same moment: the one the broker heard claim
      // them second gives way (two runs started together both passed the check, and both booted).
      const { login, fresh } = opts;
      const claimed = { url: broker.url, ...(login ? { login } : {}), prefix, ids, waitMs, fresh };
      step(`claiming the fleet's ${ids.length} ids on the broker`);
      claim = await claimFleet(
        { ...claimed, keepaliveS: profile.mqtt.keepaliveS, silences },
        scheduler,
        warn,
        stop,
      );
    }
    const replaced = replacedPairingsLine((id) => twins?.get(id), ids, pairing);
    if (replaced !== undefined) logger.warn(replaced);
    step(`writing the pairing of the fleet's ${ids.length} nodes`);
    if (existing) await writePairing(broker.url, opts.login, twins, ids, pairing);
    else await desirePairing(twins, ids, pairing, stop);
    // A broker in another process can freeze while this one runs on (its own may not: it would stop too).
    if (probe === undefined && broker.kind === "process") probe = await openProbe(existing);
    if (deaths.died) throw new Error("the broker died while the run started");
    // The nodes' broker name looked up once, as a board is given the address (fleet/broker-address.ts).
    const url = broker.nodeUrl ?? broker.url;
    const nodesAt = await nodesBrokerAt(url, [twins, probe?.watch], logger, start.lookup, scheduler);
    return {
      nodesAt,
      profile,
      ids,
      pairing,
      faults,
      broker,
      twins,
      source: twinsSource(twins),
      ...(existing ? { joined: existing } : {}),
      ...(broker instanceof KernelBroker ? { kernelLoss: broker.loss } : {}),
      ...(probe ? { probe } : {}),
      ...(existing ? {} : { ownBeside: new OwnBesideWatch(twins, scheduler) }),
      ...(claim ? { claim } : {}),
    };
  } catch (e) {
    await closeParts({ claim, probe, twins, broker });
    throw deaths.error(e);
  }
}

/** Closes what prepareFleet opened, the broker last: when the run ends, or when its start failed. */
export async function closeParts(p: Pick<FleetParts, "claim" | "probe" | "twins" | "broker" | "nodesAt">) {
  p.nodesAt?.moves?.stop();
  await p.claim?.close();
  await p.probe?.close();
  await p.twins?.close().catch(() => {});
  await p.broker.close().catch(() => {});
}

/** How long after a fleet's stale ids went offline the twins service found with them is looked for again. */
const STALE_PRESENCE_MS = 2000;

/** Nodes whose pairing is written at once: one node's changes stay in order, nodes do not wait on each other. */
const PAIRING_CONCURRENCY = 256;

/**
 * Makes each node's desired sources exactly its pairing (an existing broker may hold another). The
 * broker answers each write from another thread or process: one node after another, a 10,000-node
 * fleet waited a round trip per node.
 */
export async function desirePairing(
  twins: TwinsHost,
  ids: readonly NodeId[],
  pairing: Pairing,
  /** Ends the writes between two batches (FleetStartStoppedError). */
  stop?: AbortSignal,
): Promise<void> {
  const one = async (id: NodeId) => {
    const want = pairing.get(id) ?? [];
    const has = twins.get(id)?.desired.sources ?? [];
    for (const s of has) if (!want.includes(s)) await twins.unpair(id, s);
    for (const s of want) if (!has.includes(s)) await twins.pair(id, s);
  };
  for (let i = 0; i < ids.length; i += PAIRING_CONCURRENCY) {
    if (stop?.aborted) throw new FleetStartStoppedError(stop.reason, "writing the fleet's pairing");
    await Promise.all(ids.slice(i, i + PAIRING_CONCURRENCY).map(one));
  }
}
