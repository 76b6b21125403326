#!/usr/bin/env node
/**
 * The `twinfleet` executable: hands argv to main() and exits with its code.
 */
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
