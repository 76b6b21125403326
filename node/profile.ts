/**
 * Device profiles (profiles/devices/*.json): the zod schema every profile file is checked against,
 * the loader, and the resolved `DeviceProfile` the model runs on. In a file every number is a
 * *figure* — value, where it comes from (measured here / datasheet / software (a library's or kernel's source or docs) / estimate) and a reference —
 * so a reader can tell a measurement from a guess; the model only sees the values.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { OptionError } from "../protocol/option-error.js";
import { shown, shownPath } from "../protocol/shown.js";
import { FILE_LIMITS, readUserText } from "../protocol/user-file.js";
import { packageRoot } from "./paths.js";

export const FIGURE_SOURCES = ["measured", "datasheet", "software", "estimate"] as const;
export type FigureSource = (typeof FIGURE_SOURCES)[number];

/** No device's figure comes near it; past it a run's clocks and histograms overflow (1e300 cycles did). */
const FIGURE_MAX = 1e12;
const figure = z
  .object({
    value: z.number().finite().nonnegative().max(FIGURE_MAX, "must be at most 1e12"),
    source: z.enum(FIGURE_SOURCES),
    ref: z.string().min(1, "must cite where the number comes from"),
  })
  .strict();
const positive = figure.extend({
  value: z.number().finite().positive().max(FIGURE_MAX, "must be at most 1e12"),
});
const integer = figure.extend({
  value: z.number().int().nonnegative().max(FIGURE_MAX, "must be at most 1e12"),
});
/** A network delay: past a minute nothing connects, and the failure would read as a broker not answering. */
const delay = figure.extend({
  value: z.number().finite().nonnegative().max(60_000, "must be at most 60000 ms (a minute)"),
});

const profileFile = z
  .object({
    $about: z.string().optional(),
    name: z.string().regex(/^[a-z0-9-]{1,16}$/, "must be 1-16 characters of a-z 0-9 -"),
    board: z.string().min(1),
    mcu: z
      .object({ name: z.string().min(1), clockHz: positive, sramBytes: integer, flashBytes: integer })
      .strict(),
    /** CPU cycles of the Arduino/Ethernet/PubSubClient operations the sketch performs. */
    cycles: z
      .object({
        digitalWrite: figure,
        digitalRead: figure,
        isrEntry: figure,
        isrReturn: figure,
        isrDispatch: figure,
        spiWritePerByte: figure,
        spiReadPerByte: figure,
        sendOverhead: figure,
        recvOverhead: figure,
        idlePoll: figure,
        loopOverhead: figure,
        packetBuildPerByte: figure,
      })
      .strict(),
    /**
     * CPU cycles of the protocol core's own operations (firmware/core), one figure per kind of input
     * and what the core did with it (node/core-cost.ts classifies); each includes encoding the
     * payloads the core publishes, not PubSubClient's packet or the SPI transfer.
     */
    coreCycles: z
      .object({
        boot: figure,
        connected: figure,
        disconnected: figure,
        tick: figure,
        press: figure,
        pressHeld: figure,
        syncComplete: figure,
        retainedConfig: figure,
        configPerSource: figure,
        stateCommand: figure,
        sourceReportApplied: figure,
        reportStale: figure,
        subscribeCommand: figure,
        unsubscribeCommand: figure,
        commandIgnored: figure,
        query: figure,
        badPayload: figure,
        badTopic: figure,
      })
      .strict(),
    loop: z.object({ idlePeriodUs: figure }).strict(),
    w5100: z
      .object({
        rtrMs: figure,
        rcr: integer,
        rtoCapMs: figure,
        connectTimeoutMs: figure,
        rxBufferBytes: integer,
        txBufferBytes: integer,
        resetWaitMs: figure,
      })
      .strict(),
    brokerTcp: z.object({ rtoMinMs: figure, rtoMaxMs: figure, retries: integer }).strict(),
    /**
     * The node's own TCP when it is Linux's (absent: the W5100's, from `w5100`): RTO from SRTT/RTTVAR
     * with `w5100.rtrMs` as TCP_RTO_MIN, backoff kept per connection, tail loss probe; Nagle's
     * algorithm, its delayed-ACK timer, and the SYN schedule (first SYN RTO, tcp_syn_retries).
     */
    nodeTcp: z
      .object({
        nagle: z.boolean(),
        delayedAckMs: figure,
        synRtoMs: positive,
        synRetries: integer,
      })
      .strict()
      .optional(),
    network: z.object({ oneWayLatencyMs: delay, brokerForwardMs: delay, lossFree: z.boolean() }).strict(),
    mqtt: z
      .object({
        maxPacketBytes: integer,
        // CONNECT carries it in 16 bits, in whole seconds (mqtt-packet refuses anything else).
        keepaliveS: figure.extend({
          value: z
            .number()
            .int("must be a whole number of seconds (CONNECT's keep alive)")
            .min(1, "must be at least 1 s")
            .max(65_535, "must be at most 65535 s (CONNECT's keep alive is 16 bits)"),
        }),
        socketTimeoutS: positive,
      })
      .strict(),
    sketch: z
      .object({
        reconnectPeriodMs: figure,
        syncGraceMs: integer,
        /**
         * The button interrupt ignores a press within this many ms of the last press it took (the
         * sketch's TF_DEBOUNCE_MS, compared in whole millis()); 0: every press is taken.
         */
        debounceMs: z
          .object(
            {
              ...figure.shape,
              value: z
                .number()
                .int("must be a whole number of ms (the sketch compares millis())")
                .nonnegative("must be at least 0 (0: no debounce)")
                .max(60_000, "must be at most 60000 ms (a minute)"),
            },
            {
              // A profile written before the field: say what to put there.
              error: (i) =>
                i.input === undefined
                  ? "missing: the button debounce in ms, a figure (50: the sketch's TF_DEBOUNCE_MS; 0: none)"
                  : undefined,
            },
          )
          .strict(),
      })
      .strict(),
    /** Static SRAM the sketch's parts take; the PubSubClient buffer is added from mqtt.maxPacketBytes. */
    ram: z
      .object({
        arduinoCore: integer,
        ethernetLibrary: integer,
        pubsubClient: integer,
        coreFixed: integer,
        corePerFollow: integer,
        sketch: integer,
        stack: integer,
      })
      .strict(),
    firmware: z
      .object({
        budgetFile: z.string().min(1),
        flashBudgetBytes: integer,
        sramBudgetBytes: integer,
        flashUsedBytes: integer.nullable(),
        sramStaticBytes: integer.nullable(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const pollUs = ((p.cycles.idlePoll.value + p.cycles.loopOverhead.value) / p.mcu.clockHz.value) * 1e6;
    if (p.loop.idlePeriodUs.value > 0 && p.loop.idlePeriodUs.value + 1e-9 < pollUs) {
      ctx.addIssue({
        code: "custom",
        path: ["loop", "idlePeriodUs", "value"],
        message: `is shorter than one idle poll plus loop overhead (${pollUs.toFixed(1)} µs)`,
      });
    }
    // A socket buffer of 0 takes no byte (the sketch's write would wait for room for ever); the model
    // read a TX buffer of 0 as one without limit and gave the same run as 2 KB.
    for (const buffer of ["rxBufferBytes", "txBufferBytes"] as const) {
      if (p.w5100[buffer].value < 1) {
        ctx.addIssue({
          code: "custom",
          path: ["w5100", buffer, "value"],
          message: "must be at least 1 B (0 takes no byte; a W5100 socket has 1, 2, 4 or 8 KB)",
        });
      }
    }
    // Linux clamps the broker's RTO to [TCP_RTO_MIN, TCP_RTO_MAX]: a maximum below the minimum was
    // taken without a word and every retransmission waited the maximum.
    const { rtoMinMs, rtoMaxMs } = p.brokerTcp;
    if (rtoMaxMs.value < rtoMinMs.value) {
      ctx.addIssue({
        code: "custom",
        path: ["brokerTcp", "rtoMaxMs", "value"],
        message: `${rtoMaxMs.value} ms is below brokerTcp.rtoMinMs (${rtoMinMs.value} ms): the broker's RTO lies between the two`,
      });
    }
    // The W5100 waits RTR before its first retransmission and doubles the wait up to its cap (facts.md
    // §W5100: 200 ms doubling to 6.4 s); with nodeTcp, rtrMs is Linux's TCP_RTO_MIN under the same
    // cap. An RTR above the cap was taken without a word and every wait, the first too, was the cap.
    const { rtrMs, rtoCapMs } = p.w5100;
    const rtrIssue = rtrRefused(rtrMs.value, p.nodeTcp !== undefined);
    if (rtrIssue !== undefined) {
      ctx.addIssue({ code: "custom", path: ["w5100", "rtrMs", "value"], message: rtrIssue });
    } else if (rtrMs.value > rtoCapMs.value) {
      ctx.addIssue({
        code: "custom",
        path: ["w5100", "rtrMs", "value"],
        message: `${rtrMs.value} ms is above w5100.rtoCapMs (${rtoCapMs.value} ms): the first retransmission waits rtrMs and every wait is capped at rtoCapMs, so none would wait ${rtrMs.value} ms. Make rtrMs at most the cap (a W5100's RTR register holds up to 6553.5 ms; the chip's default is 200 ms, doubling to 6.4 s)`,
      });
    }
    // Ethernet 2.0.2's socketSend() writes at most the socket's TX buffer and EthernetClient::write()
    // then reports the whole packet written, so PubSubClient sees success and the broker gets a cut
    // packet with the next one's bytes behind it. The model carries whole packets and cannot show
    // that; a Linux TCP (nodeTcp) blocks until the packet is in and is modeled.
    const tx = p.w5100.txBufferBytes.value;
    const maxPacket = p.mqtt.maxPacketBytes.value;
    if (p.nodeTcp === undefined && tx >= 1 && tx < maxPacket) {
      ctx.addIssue({
        code: "custom",
        path: ["w5100", "txBufferBytes", "value"],
        message:
          `${tx} B is smaller than mqtt.maxPacketBytes (${maxPacket} B): a W5100 socket sends at most its TX ` +
          "buffer of a packet and reports the whole packet written, so the broker would get it cut; " +
          `the model cannot show that. Make txBufferBytes at least ${maxPacket} (a W5100 socket has ` +
          "2, 4 or 8 KB under the Ethernet library) or maxPacketBytes at most the buffer",
      });
    }
    if (p.mqtt.maxPacketBytes.value < 8) {
      ctx.addIssue({
        code: "custom",
        path: ["mqtt", "maxPacketBytes", "value"],
        message: "must be at least 8",
      });
    }
  });

/** The W5100's RTR register: a 16-bit count of 100 µs units (facts.md §W5100). */
const RTR_UNIT_MS = 0.1;
const RTR_MAX_MS = 0xffff * RTR_UNIT_MS;

/**
 * Why `ms` cannot be the first retransmission wait, or undefined. No wait (0) retransmits each
 * unanswered segment at once, over and over: a run with `rtrMs` 0 was taken and read 100 % CPU. A
 * W5100 (no `nodeTcp`) holds only whole 100 µs units up to 6553.5 ms; Linux's TCP_RTO_MIN only above 0.
 */
function rtrRefused(ms: number, linux: boolean): string | undefined {
  if (ms <= 0)
    return `${ms} ms is no wait: every unanswered segment would be sent again at once, without end. Make it above 0 (the W5100's default is 200 ms)`;
  if (linux) return undefined;
  if (ms < RTR_UNIT_MS || ms > RTR_MAX_MS)
    return `${ms} ms is outside what a W5100's RTR register holds (a 16-bit count of 100 µs: 0.1 to 6553.5 ms)`;
  const units = ms / RTR_UNIT_MS;
  if (Math.abs(units - Math.round(units)) > 1e-6)
    return `${ms} ms is not a whole number of 100 µs, the unit of a W5100's RTR register (e.g. ${Math.round(units) / 10} ms)`;
  return undefined;
}

export type ProfileFile = z.infer<typeof profileFile>;
type Figure = z.infer<typeof figure>;
/** A profile section with each figure replaced by its value. */
type Values<T> = {
  readonly [K in keyof T]: T[K] extends Figure ? number : T[K] extends Figure | null ? number | null : T[K];
};

/** The profile the model runs on: plain numbers, plus the cited file it came from. */
export interface DeviceProfile {
  readonly name: string;
  readonly board: string;
  readonly mcu: {
    readonly name: string;
    readonly clockHz: number;
    readonly sramBytes: number;
    readonly flashBytes: number;
  };
  readonly cycles: Values<ProfileFile["cycles"]>;
  readonly coreCycles: Values<ProfileFile["coreCycles"]>;
  readonly loop: Values<ProfileFile["loop"]>;
  readonly w5100: Values<ProfileFile["w5100"]>;
  readonly brokerTcp: Values<ProfileFile["brokerTcp"]>;
  readonly nodeTcp: Values<NonNullable<ProfileFile["nodeTcp"]>> | undefined;
  readonly network: Values<ProfileFile["network"]>;
  readonly mqtt: Values<ProfileFile["mqtt"]>;
  readonly sketch: Values<ProfileFile["sketch"]>;
  readonly ram: Values<ProfileFile["ram"]>;
  readonly firmware: Values<NonNullable<ProfileFile["firmware"]>> | undefined;
  readonly cited: ProfileFile;
}

export class ProfileError extends OptionError {
  override readonly name = "ProfileError";
}

function values<T extends object>(section: T): Values<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    out[k] = v !== null && typeof v === "object" && "value" in v ? v.value : v;
  }
  return out as Values<T>;
}

/** Validates a parsed profile; `origin` (a file name) prefixes every message. */
export function parseProfile(json: unknown, origin: string): DeviceProfile {
  const r = profileFile.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new ProfileError(`${origin}: invalid device profile\n${lines.join("\n")}`);
  }
  const p = r.data;
  return {
    name: p.name,
    board: p.board,
    mcu: {
      name: p.mcu.name,
      ...values({ clockHz: p.mcu.clockHz, sramBytes: p.mcu.sramBytes, flashBytes: p.mcu.flashBytes }),
    },
    cycles: values(p.cycles),
    coreCycles: values(p.coreCycles),
    loop: values(p.loop),
    w5100: values(p.w5100),
    brokerTcp: values(p.brokerTcp),
    nodeTcp: p.nodeTcp ? values(p.nodeTcp) : undefined,
    network: values(p.network),
    mqtt: values(p.mqtt),
    sketch: values(p.sketch),
    ram: values(p.ram),
    firmware: p.firmware ? values(p.firmware) : undefined,
    cited: p,
  };
}

export const PROFILES_DIR = `${join(packageRoot(), "profiles", "devices")}/`;

/** Loads a profile by name from profiles/devices/, or from a path ending in `.json`. */
/** The names of the device profiles in profiles/devices/, sorted. */
export function profileNames(): string[] {
  return readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

export function loadProfile(nameOrPath: string): DeviceProfile {
  const path = nameOrPath.endsWith(".json") ? nameOrPath : `${PROFILES_DIR}${nameOrPath}.json`;
  if (!nameOrPath.endsWith(".json") && !profileNames().includes(nameOrPath)) {
    throw new ProfileError(
      `no device profile ${shown(nameOrPath)}; the profiles are ${profileNames().join(", ")} (or give a .json file)`,
    );
  }
  const text = readUserText(path, { maxBytes: FILE_LIMITS.settings, error: (m) => new ProfileError(m) });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${shownPath(path)}: not valid JSON (${(e as Error).message})`);
  }
  const profile = parseProfile(json, shownPath(path));
  if (!nameOrPath.endsWith(".json") && profile.name !== nameOrPath) {
    throw new ProfileError(
      `${path}: name is ${JSON.stringify(profile.name)}, expected ${JSON.stringify(nameOrPath)}`,
    );
  }
  return profile;
}
