/**
 * The OpenAPI document's component schemas (web/openapi.ts): the shapes the server answers with —
 * nodes, their detail, the fleet, convergence, latency, problems — which the paths refer to by name.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The in-sync share, now and at each point of its history. */
const SHARE = {
  fraction: { type: "number" },
  inSync: { type: "integer" },
  known: { type: "integer" },
};

const summary = {
  type: "object",
  required: ["id", "kind", "on", "online", "sync", "version"],
  properties: {
    id: { type: "string" },
    kind: { enum: ["real", "sim", "host", null] },
    on: { type: "boolean" },
    online: { type: "boolean" },
    sync: { enum: ["in-sync", "out-of-sync", "unknown"] },
    version: { type: "integer", minimum: 0 },
    changedAt: {
      type: "integer",
      description: "When the twin last changed, ms since the Unix epoch (absent until it changes)",
    },
    waits: {
      enum: ["set", "pairing", "set and pairing"],
      description:
        "what is kept for the node while it is not online, carried out when it returns (absent when nothing is)",
    },
    unheard: {
      const: true,
      description:
        "online only by the status a broker that restarted since kept, and not heard since: not counted online until heard, offline when its will comes (absent otherwise)",
    },
  },
};

export const schemas = {
  Problem: {
    type: "object",
    required: ["type", "title", "status", "detail"],
    properties: {
      type: { type: "string" },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      field: { type: "string", description: "the body, query or path field at fault, e.g. body.on" },
    },
  },
  NodeSummary: summary,
  NodeDetail: {
    allOf: [
      ref("NodeSummary"),
      {
        type: "object",
        required: ["presence", "follows", "followers", "desired", "lastMessages"],
        properties: {
          profile: { type: "string" },
          firmware: { type: "string" },
          identity: { type: "string" },
          presence: { enum: ["online", "offline", "unknown", "unheard"] },
          lastSeen: {
            type: "number",
            description:
              "the node's last message, ms since the fleet started (a twins service: since it started, so negative for a node heard before)",
          },
          lastSeenAt: { type: "string", format: "date-time", description: "the same as a date (UTC)" },
          lastSeenAge: {
            type: "number",
            minimum: 0,
            description: "how long before this answer the node's last message came, ms on the fleet's clock",
          },
          registeredAt: { type: "number", description: "ms since the fleet started" },
          follows: { type: "array", items: { type: "string" } },
          followers: { type: "array", items: { type: "string" } },
          desired: {
            type: "object",
            properties: {
              sources: { type: "array", items: { type: "string" } },
              configVersion: { type: "integer" },
              pending: { type: "boolean", description: "a set or the pairing waits for the node" },
              pairingPending: {
                type: "boolean",
                description: "the pairing (sources) waits for the node to confirm it",
              },
              pendingSet: {
                type: "object",
                description: "a set the node has not confirmed (sent again when it registers)",
                properties: { on: { type: "boolean" }, counter: { type: "integer" } },
              },
            },
          },
          sim: {
            type: "object",
            properties: {
              cpuPct: { type: "number" },
              ramBytes: { type: "number" },
              link: {
                type: "object",
                properties: {
                  retransmissions: { type: "integer" },
                  timeouts: { type: "integer" },
                  reconnects: { type: "integer" },
                  dropped: { type: "integer" },
                },
              },
              cablePulled: { type: "boolean" },
            },
          },
          lastMessages: { type: "array", items: { type: "string" } },
        },
      },
    ],
  },
  Fleet: {
    type: "object",
    required: ["title", "kind", "capabilities", "lossPct", "faults", "now", "nodes", "pace"],
    properties: {
      title: { type: "string" },
      kind: { enum: ["twins", "sim", "monitor"] },
      capabilities: { type: "object", additionalProperties: { type: "boolean" } },
      lossPct: { type: ["number", "null"] },
      faults: {
        type: "array",
        items: { type: "object", properties: { what: { type: "string" }, since: { type: "number" } } },
      },
      now: { type: "number", description: "ms on the fleet's clock (a virtual run's virtual time)" },
      nodes: { type: "integer" },
      pace: {
        description: "a virtual-time run's pace; null on real time",
        oneOf: [
          { type: "null" },
          {
            type: "object",
            required: ["speed", "paused"],
            properties: {
              speed: {
                oneOf: [{ type: "number", exclusiveMinimum: 0 }, { const: "max" }],
                description: "virtual seconds per wall second, or max: as fast as the CPU allows",
              },
              paused: { type: "boolean" },
            },
          },
        ],
      },
    },
  },
  Convergence: {
    type: "object",
    properties: {
      ...SHARE,
      online: {
        type: "integer",
        description:
          "of the known followers, those online now (a live fleet): with none, nothing current is judged",
      },
      unheard: {
        type: "integer",
        description:
          "of the known followers, those not heard since the broker restarted (online only by the status it kept): neither online nor offline; absent when none is",
      },
      held: {
        type: "boolean",
        description:
          "true while the twins service re-reads the broker's retained state (a subscription's replay: at its start, after each reconnect): the share is the one from before the re-read, its view half refreshed not being the fleet's; absent otherwise",
      },
      history: {
        type: "array",
        items: {
          type: "object",
          properties: {
            t: { type: "number" },
            ...SHARE,
            online: {
              type: "integer",
              description:
                "of the known followers, those online at the point (a live fleet): with none, the fraction is the last-heard one and the page's chart shows no line there",
            },
            unheard: {
              type: "integer",
              description:
                "of the known followers, those not heard since the broker restarted at the point: neither online nor offline; absent when none was (the page's chart marks a stretch with none online and some unheard `followers unheard`)",
            },
            stoppedUntil: {
              type: "number",
              description:
                "a restart's marker, in a history kept in the twins data directory: the twins service was not running from `t` until this time, so nothing was measured there (the share is the last one before); the page's chart draws a band marked `twins service not running`",
            },
            held: {
              type: "boolean",
              description:
                "true for a point measured during the twins service's own re-read of the broker's retained state (at its start, after each reconnect): its share is the one from before the re-read (`online` and `unheard` as measured); absent otherwise",
            },
          },
        },
      },
      t: { type: "number", description: "when this was read, on the history's clock: the chart's now" },
      away: {
        type: "array",
        description:
          "a live fleet's last broker outages, oldest first (`to` absent: under way): nothing was heard then, so no share was measured; the page's chart draws a band marked `broker away` there; kept across the twins service's restarts with `--data`",
        items: {
          type: "object",
          required: ["from"],
          properties: { from: { type: "number" }, to: { type: "number" } },
        },
      },
    },
  },
  ConvergenceMinutes: {
    type: "object",
    required: ["minuteMs", "kept", "t", "minutes"],
    properties: {
      minuteMs: { type: "integer", description: "the length of a minute point, ms (60000)" },
      kept: { type: "integer", description: "how many minutes the twins service keeps (2880: 48 h)" },
      t: { type: "number", description: "when this was read, on the history's clock: the chart's now" },
      minutes: {
        type: "array",
        description:
          "oldest first, one a minute, the minute under way last; kept in the twins data directory across restarts",
        items: {
          type: "object",
          required: ["t"],
          properties: {
            t: { type: "number", description: "the minute's start, on the history's clock" },
            fraction: {
              type: "number",
              description:
                "the lowest in-sync share judged in the minute (not its mean: a dip of seconds shows); absent when nothing was judged (no follower known or online, the broker away, the service down all of it)",
            },
            inSync: { type: "integer", description: "followers in sync at that lowest share" },
            known: { type: "integer", description: "followers known at that lowest share" },
            online: { type: "integer", description: "the fewest followers online in the minute" },
            away: { type: "boolean", description: "the broker was away for some of the minute" },
            down: {
              type: "boolean",
              description: "the twins service was not running for some of the minute (a restart)",
            },
          },
        },
      },
    },
  },
  Latency: {
    type: "object",
    properties: {
      count: { type: "integer" },
      p50Ms: { type: "number" },
      p99Ms: { type: "number" },
      bucketMs: { type: "number" },
      buckets: { type: "array", items: { type: "integer" } },
      overflow: { type: "integer" },
    },
  },
};
