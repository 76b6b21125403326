/**
 * Whether a twins service already controls the fleet on someone else's broker, told for sure before
 * the run decides to start a controller of its own: a look the broker did not finish within its
 * second (busy with another fleet, slow to send retained messages) is made again with more time,
 * and one still unfinished stops the run rather than put a second controller beside one it could
 * not see (two controllers undo each other's pairings and sets). A broker the looks never reached
 * (nothing answered at its address) stops the run as unreachable, not as busy.
 */
import { PresenceLookUnfinished, type TwinsServiceInfo } from "../twins/index.js";

/** The first look's bound, and the second's after an unfinished one (ms). */
export const LOOK_MS = 1000;
export const LOOK_AGAIN_MS = 10_000;

/** The services `look` finds within LOOK_MS, or within LOOK_AGAIN_MS more when the first is unfinished. */
export async function lookForControllers(
  look: (timeoutMs: number) => Promise<TwinsServiceInfo[]>,
  warn: (line: string) => void,
): Promise<TwinsServiceInfo[]> {
  try {
    return await look(LOOK_MS);
  } catch (e) {
    if (!(e instanceof PresenceLookUnfinished)) throw e;
    warn(
      `${e.message}; looking again for up to ${LOOK_AGAIN_MS / 1000} s before the run starts a controller of its own`,
    );
  }
  try {
    return await look(LOOK_AGAIN_MS);
  } catch (e) {
    if (!(e instanceof PresenceLookUnfinished)) throw e;
    // Never reached (nothing answered at its address, its name not resolved): no busy broker.
    if (e.unreached !== undefined) throw e.unreached;
    throw new Error(
      `cannot tell whether a twins service already controls the fleet: ${e.message}; the run does not start a controller that could be a second one beside it (a broker this busy would also set the run's pace)`,
    );
  }
}
