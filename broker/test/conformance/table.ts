/**
 * The MQTT 3.1.1 conformance table of `twinfleet broker`: one row per rule a server MUST follow that
 * can be checked from the outside (§1.5.3, §2, §3, §4.7), each with the bytes sent and the exact
 * answer expected, or the close. Each row runs against its own fresh broker (runner.ts).
 */
import { CONNECT_ROWS } from "./rows-connect.js";
import { PUBLISH_ROWS } from "./rows-publish.js";
import { SUBSCRIBE_ROWS } from "./rows-subscribe.js";
import type { Row } from "./runner.js";

export const TABLE: readonly Row[] = [...CONNECT_ROWS, ...PUBLISH_ROWS, ...SUBSCRIBE_ROWS];
