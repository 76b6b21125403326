/**
 * The console's public surface: open it over any ConsoleSource.
 */

export { ConsoleEmitter } from "../view/emitter.js";
export * from "../view/source.js";
export { type ConsoleEnd, type ConsoleHandle, openConsole, runConsole } from "./app.js";
export { BROKER_DOWN_S, LOSS_STEPS, POWER_OFF_S } from "./keys.js";
export type { ConsoleOptions } from "./options.js";
export { whyNoConsole } from "./terminal.js";
