/**
 * A fleet run's what-if profile settings (`FleetOptions.profileOverrides`, a sweep's settings
 * variants): values that replace a device profile's cited figures, checked as a whole profile again.
 */
import { type DeviceProfile, parseProfile } from "../node/profile.js";
import {
  FleetOptionsError,
  fleetOptionError,
  type ProfileOverrides,
  profileOverridesSchema,
} from "./options.js";

/**
 * The profile with `overrides` applied to its cited figures and validated again as a whole profile,
 * so a bad value gets the profile's own message; an unknown section or field is named.
 */
export function applyProfileOverrides(profile: DeviceProfile, overrides: ProfileOverrides): DeviceProfile {
  const bad = (subpath: string, text: string) =>
    new FleetOptionsError([{ field: "profileOverrides", subpath, text: () => text }]);
  const parsed = profileOverridesSchema.safeParse(overrides);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw bad(i?.path.join(".") ?? "", i?.message ?? "invalid");
  }
  const cited = structuredClone(profile.cited) as unknown as Record<string, unknown>;
  for (const [section, fields] of Object.entries(parsed.data)) {
    const sec = cited[section];
    if (sec === null || typeof sec !== "object" || Array.isArray(sec)) {
      throw bad(section, "not a section of a device profile");
    }
    for (const [field, value] of Object.entries(fields)) {
      const fig = (sec as Record<string, unknown>)[field];
      if (fig === null || typeof fig !== "object" || !("value" in fig)) {
        throw bad(`${section}.${field}`, "not a number in the device profile");
      }
      (sec as Record<string, unknown>)[field] = {
        ...fig,
        value,
        source: "estimate",
        ref: "profileOverrides: a what-if setting",
      };
    }
  }
  try {
    return parseProfile(cited, `${profile.name} with profileOverrides`);
  } catch (e) {
    throw fleetOptionError("profileOverrides", (e as Error).message);
  }
}
