/**
 * The CLI's exit codes: 2 for a usage error (a bad flag, argument or option value: nothing was
 * tried), 1 for a runtime failure (the broker could not be reached, a login was refused, a
 * requirement was not met), 0 otherwise. A command throws UsageError for the first kind.
 */
import { OptionError } from "../protocol/option-error.js";

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** A bad flag or argument; the message names it. */
export class UsageError extends OptionError {
  override readonly name = "UsageError";
}
