/*
 * TwinfleetCore: the twinfleet node protocol (docs/protocol.md) for boards and hosts. Include this
 * one header; see tf_node.h for the state machine, tf_codec.h for the payload grammar and
 * tf_receive.h for the copy of a received message.
 */
#ifndef TWINFLEET_CORE_H
#define TWINFLEET_CORE_H

#include "tf_codec.h"
#include "tf_limits.h"
#include "tf_node.h"
#include "tf_receive.h"

#endif
