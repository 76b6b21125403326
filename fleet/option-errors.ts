/**
 * Errors of fleet options: each problem with its field, so the library names it as an option
 * (`options.nodes`) and the command line as a flag (`--nodes`, cli/fleet-flags.ts) for the same check.
 */
import { OptionError } from "../protocol/index.js";

/** How an error names a field: `options.nodes` for the library, `--nodes` for the command line. */
export type FieldNamer = (field: string, subpath?: string) => string;
export const optionName: FieldNamer = (field, sub) => `options.${field}${sub ? `.${sub}` : ""}`;

export interface FleetOptionIssue {
  /** The top-level field of FleetOptions. */
  readonly field: string;
  /** Inside it, e.g. `pBadToGood` of `gilbertElliott`. */
  readonly subpath?: string;
  /** The problem; other fields it mentions are named with `name`. */
  readonly text: (name: FieldNamer) => string;
}

/** Bad fleet options: each problem with its field, named as the caller names fields. */
export class FleetOptionsError extends OptionError {
  override readonly name = "FleetOptionsError";
  constructor(readonly issues: readonly FleetOptionIssue[]) {
    super(describeFleetIssues(issues, optionName));
  }

  /** The message with fields named by `name` (the CLI names the flags). */
  describe(name: FieldNamer): string {
    return describeFleetIssues(this.issues, name);
  }
}

function describeFleetIssues(issues: readonly FleetOptionIssue[], name: FieldNamer): string {
  return issues.map((i) => `${name(i.field, i.subpath)}: ${i.text(name)}`).join("; ");
}

/** One problem with one field, as a FleetOptionsError. */
export function fleetOptionError(
  field: string,
  text: string | ((name: FieldNamer) => string),
): FleetOptionsError {
  return new FleetOptionsError([{ field, text: typeof text === "string" ? () => text : text }]);
}
