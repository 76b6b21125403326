/**
 * The one base class of every bad-option error in the project: a broker, twins or fleet option, a
 * device profile, a sweep scenario, a fault schedule, a pairing file or a command-line flag that
 * cannot be used. It lives at the bottom of the layers so every layer can extend it; the CLI treats
 * any of them as a usage error (exit 2: nothing was tried). The message names what is wrong.
 */
export class OptionError extends Error {
  override readonly name: string = "OptionError";
}
