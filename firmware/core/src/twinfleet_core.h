/*
 * TwinfleetCore: the twinfleet node protocol (docs/protocol.md) for boards and hosts. Include this
 * one header; see tf_node.h for the state machine and tf_codec.h for the payload grammar.
 */
#ifndef TWINFLEET_CORE_H
#define TWINFLEET_CORE_H

#include "tf_codec.h"
#include "tf_limits.h"
#include "tf_node.h"

#endif
