/**
 * The protocol layer's public surface: names, stamps, messages, topics and the codec.
 */
export * from "./bursts.js";
export * from "./codec.js";
export * from "./decimal.js";
export * from "./digest.js";
export * from "./errors.js";
export * from "./forget.js";
export * from "./held.js";
export * from "./ids.js";
export * from "./limits.js";
export * from "./messages.js";
export * from "./never.js";
export * from "./option-error.js";
export * from "./stamp.js";
export * from "./topics.js";
