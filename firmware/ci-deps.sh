#!/usr/bin/env bash
# The Debian/Ubuntu packages firmware/test.sh needs: host compiler, AVR toolchain, libmosquitto for
# the stand-in, nlohmann-json for the vector harness. Run as root (CI images are).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  g++ make gcc-avr avr-libc binutils-avr libmosquitto-dev nlohmann-json3-dev mosquitto
