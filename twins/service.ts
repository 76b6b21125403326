/**
 * Starting the twins service (twins/twins-service.ts): its store restored, then connected, or its
 * first connection left under way for a service that waits for its broker.
 */
import type { Twins } from "./api.js";
import { restoreHistory } from "./history-restore.js";
import { resolveTwinsOptions, type TwinsOptions } from "./options.js";
import { restoreDated } from "./stored-dates.js";
import { TwinsService } from "./twins-service.js";

export { BrokerUnavailableError, type Twins } from "./api.js";

/**
 * Starts a twins service and resolves once it is connected, subscribed and has queried the fleet.
 * `created` is given the service before it connects, so a caller can listen to the events of its
 * first seconds (the retained messages and the answers to its query arrive while it connects).
 * With `waitForBroker` it resolves once the store is restored, the first connection under way
 * (`twins.reached`, `twins.waiting`).
 */
export async function startTwins(options: TwinsOptions, created?: (twins: Twins) => void): Promise<Twins> {
  const opts = resolveTwinsOptions(options);
  let restored: Awaited<ReturnType<typeof opts.store.load>>;
  try {
    restored = await opts.store.load(opts.prefix);
  } catch (e) {
    // A store that cannot be read lets go of its directory: the next start should not find it held.
    await opts.store.close();
    throw e;
  }
  const file = opts.store.historyFile;
  const { historyCapacity, scheduler, logger, prefix } = opts;
  const kept =
    file !== undefined ? await restoreHistory(file, historyCapacity, scheduler, logger, prefix) : undefined;
  const service = new TwinsService(kept !== undefined ? { ...opts, history: kept } : opts);
  restoreDated(service.registry, restored, opts.scheduler, opts.logger);
  created?.(service);
  if (opts.waitForBroker) {
    service.connectWaiting();
    return service;
  }
  try {
    await service.connect();
  } catch (e) {
    await service.close();
    throw e;
  }
  return service;
}
