/**
 * The console's public surface: open it over any ConsoleSource.
 */
export { type ConsoleHandle, LOSS_STEPS, openConsole, runConsole } from "./app.js";
export { ConsoleEmitter } from "./emitter.js";
export type { ConsoleOptions, ConsoleTimers } from "./options.js";
export * from "./source.js";
