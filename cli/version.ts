/**
 * The package version for `--version`; read in node/ so that the fleet's reports share it.
 */
export { VERSION } from "../node/version.js";
