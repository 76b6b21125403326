/*
 * Per-board configuration of twinfleet_node. Edit before flashing (every board needs its own MAC,
 * IP and node id), or override any value with a -D flag, e.g.
 *   arduino-cli compile ... --build-property "compiler.cpp.extra_flags=-DTF_NODE_ID=\"lamp-2\""
 */
#ifndef TWINFLEET_NODE_CONFIG_H
#define TWINFLEET_NODE_CONFIG_H

// Network. The MAC must be unique on the LAN (use the one on the shield's sticker if it has one).
#ifndef TF_MAC
#define TF_MAC {0xDE, 0xAD, 0xBE, 0xEF, 0xFE, 0x01}
#endif
// 1: DHCP (costs ~3 KB of flash for the DHCP client); 0: the static address below.
#ifndef TF_USE_DHCP
#define TF_USE_DHCP 0
#endif
#ifndef TF_IP
#define TF_IP 192, 168, 1, 177
#endif
#ifndef TF_DNS
#define TF_DNS 192, 168, 1, 1
#endif
#ifndef TF_GATEWAY
#define TF_GATEWAY 192, 168, 1, 1
#endif
#ifndef TF_SUBNET
#define TF_SUBNET 255, 255, 255, 0
#endif

// The MQTT broker, by address (a host name would pull in the DNS client).
#ifndef TF_BROKER_IP
#define TF_BROKER_IP 192, 168, 1, 10
#endif
#ifndef TF_BROKER_PORT
#define TF_BROKER_PORT 1883
#endif
// Broker credentials (docs/protocol.md §7): the user name is the node id. Empty: no credentials.
#ifndef TF_USERNAME
#define TF_USERNAME ""
#endif
#ifndef TF_PASSWORD
#define TF_PASSWORD ""
#endif

// Protocol identity: node id [A-Za-z0-9_-]{1,23}, prefix [A-Za-z0-9_-]{1,12}.
#ifndef TF_NODE_ID
#define TF_NODE_ID "lamp-1"
#endif
#ifndef TF_PREFIX
#define TF_PREFIX "tf"
#endif
#ifndef TF_PROFILE
#define TF_PROFILE "uno-w5100"
#endif
// How long after CONNACK the node waits for its retained config and report (protocol §5.1).
#ifndef TF_SYNC_GRACE_MS
#define TF_SYNC_GRACE_MS 1500
#endif

// W5100 TCP retransmission (RTR in ms, RCR). The chip's defaults are 200 ms and 8 retries, which
// with the doubling back-off means a dead link blocks a send for ~31.8 s. Lower values notice a dead
// broker sooner but give up on a lossy link sooner too. The library caps the timeout at 6553 ms.
#ifndef TF_RETRANSMISSION_TIMEOUT_MS
#define TF_RETRANSMISSION_TIMEOUT_MS 200
#endif
#ifndef TF_RETRANSMISSION_COUNT
#define TF_RETRANSMISSION_COUNT 8
#endif

// Wiring. The paper wires the LED to pin 12. On the Uno, pin 12 is SPI's MISO, taken by the Ethernet
// shield (an LED there only glows faintly with the SPI traffic), so the Uno build uses pin 8; on the
// Due the SPI bus is on the ICSP header only and pin 12 is free — which suggests the paper's "Duo"
// was a Due. Override with -DTF_LED_PIN=n.
#ifndef TF_LED_PIN
#if defined(__AVR__)
#define TF_LED_PIN 8
#else
#define TF_LED_PIN 12
#endif
#endif
#ifndef TF_BUTTON_PIN
#define TF_BUTTON_PIN 2  // INT0 on the Uno; any pin on the Due
#endif
#ifndef TF_DEBOUNCE_MS
#define TF_DEBOUNCE_MS 50
#endif
// How often to retry the broker after a failed connect (the uno-w5100 profile's sketch.reconnectPeriodMs:
// the simulated nodes retry as this sketch does; node/test/firmware-constants.test.ts keeps them equal).
#ifndef TF_RECONNECT_MS
#define TF_RECONNECT_MS 5000
#endif
// 1: log connects and drops on Serial at 115200 baud (costs ~2 KB flash and ~180 B SRAM).
#ifndef TF_DEBUG
#define TF_DEBUG 0
#endif

#endif
