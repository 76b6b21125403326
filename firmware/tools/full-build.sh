#!/usr/bin/env bash
# Builds the whole Uno firmware (sketch + TwinfleetCore + Ethernet + PubSubClient + the Arduino AVR
# core) with the system avr-gcc, following the compile and link recipes of the Arduino AVR core's
# platform.txt, and prints avr-size. For measuring the real footprint on a machine without
# arduino-cli; flashing is still done with arduino-cli (see firmware/README.md).
#
#   firmware/tools/full-build.sh <ArduinoCore-avr dir> <Ethernet dir> <pubsubclient dir> [out dir]
#
# The three directories are source checkouts (github.com/arduino/ArduinoCore-avr,
# arduino-libraries/Ethernet, knolleary/pubsubclient). Extra -D flags go in $TF_DEFINES.
set -euo pipefail
core=${1:?ArduinoCore-avr dir}; eth=${2:?Ethernet dir}; psc=${3:?pubsubclient dir}
here=$(cd "$(dirname "$0")/.." && pwd)
out=${4:-$here/build/full}
rm -rf "$out"; mkdir -p "$out/obj"

mcu="-mmcu=atmega328p -DF_CPU=16000000L -DARDUINO=10607 -DARDUINO_AVR_UNO -DARDUINO_ARCH_AVR"
inc="-I$core/cores/arduino -I$core/variants/standard -I$core/libraries/SPI/src -I$eth/src -I$psc/src
     -I$here/core/src -I$here/twinfleet_node"
lto="${TF_LTO:--flto}"
cflags="-c -g -Os -w -std=gnu11 -ffunction-sections -fdata-sections $lto $mcu $inc"
cppflags="-c -g -Os -w -std=gnu++11 -fpermissive -fno-exceptions -ffunction-sections -fdata-sections
          -fno-threadsafe-statics -Wno-error=narrowing $lto $mcu $inc ${TF_DEFINES:-}"

# The IDE's sketch preprocessing: the .ino becomes a .cpp that includes Arduino.h first.
{ echo '#include <Arduino.h>'; echo '#line 1 "twinfleet_node.ino"'; cat "$here/twinfleet_node/twinfleet_node.ino"; } \
  >"$out/twinfleet_node.ino.cpp"

objs=()
coreobjs=()
compile() {
  local src=$1 obj
  obj="$out/obj/$(echo "$src" | tr '/' '_').o"
  case "$src" in
    *.c) avr-gcc $cflags "$src" -o "$obj" ;;
    *.S) avr-gcc -c -g -x assembler-with-cpp $lto $mcu $inc "$src" -o "$obj" ;;
    *) avr-g++ $cppflags "$src" -o "$obj" ;;
  esac
  case "$src" in
    "$core"/cores/*) coreobjs+=("$obj") ;;
    *) objs+=("$obj") ;;
  esac
}
compile "$out/twinfleet_node.ino.cpp"
for f in "$here"/core/src/*.cpp "$eth"/src/*.cpp "$eth"/src/utility/*.cpp "$psc"/src/*.cpp \
  "$core"/libraries/SPI/src/*.cpp "$core"/cores/arduino/*.c "$core"/cores/arduino/*.cpp "$core"/cores/arduino/*.S; do
  compile "$f"
done
# Like the IDE, archive the Arduino core so that only what is used gets linked (otherwise
# HardwareSerial's interrupt vectors pull in Serial and its 157 bytes of SRAM); --gc-sections and
# LTO drop the unused parts of the libraries.
rm -f "$out/core.a"
avr-gcc-ar rcs "$out/core.a" "${coreobjs[@]}"
avr-gcc -w -Os -g $lto -fuse-linker-plugin -Wl,--gc-sections -mmcu=atmega328p -o "$out/twinfleet_node.elf" \
  "${objs[@]}" "$out/core.a" -L"$out" -lm
avr-objcopy -O ihex -R .eeprom "$out/twinfleet_node.elf" "$out/twinfleet_node.hex"
avr-size "$out/twinfleet_node.elf"
