// A thread module for thread-source.test.ts: says it started, in TypeScript syntax only tsx can load.
import { parentPort } from "node:worker_threads";

const said: string = "started";
parentPort?.postMessage(said satisfies string);
