#!/usr/bin/env bash
# Builds and checks the firmware (npm run test:firmware): the core against every conformance
# vector, its own checks and a seeded fuzz run of its input (with ASan/UBSan), the sketch on fake
# Arduino headers, the AVR build against the size budget (budget.json), checks run on the AVR and
# its cycle counts in avr8js (measured/uno-cycles.json), two stand-ins on a real broker, one against
# a hostile broker, and the mixed fleet (stand-ins among simulated nodes, vitest).
# Needs the packages of ci-deps.sh and the repo's node_modules.
# Ends with "firmware: N passed, M failed" and a non-zero status if anything failed.
set -uo pipefail
cd "$(dirname "$0")"

passed=0
failed=0
step() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "-- ok: $name"
  else
    failed=$((failed + 1))
    echo "-- FAILED: $name"
  fi
}

budget() { node -e "const b=require('./budget.json'); console.log(b$1)"; }

# Flash = .text + .data, static RAM = .data + .bss, each of the core's footprint program minus
# the empty baseline program: the core plus a minimal caller, a slight over-count.
size_check() {
  read -r ft fd fb _ < <(avr-size build/avr/footprint.elf | tail -1)
  read -r bt bd bb _ < <(avr-size build/avr/baseline.elf | tail -1)
  local flash=$((ft + fd - bt - bd)) ram=$((fd + fb - bd - bb))
  local maxFlash maxRam
  maxFlash=$(budget .core.flashBytes)
  maxRam=$(budget .core.staticRamBytes)
  avr-size build/avr/footprint.elf build/avr/baseline.elf
  echo "core on atmega328p: flash $flash B (budget $maxFlash), static RAM $ram B (budget $maxRam)"
  [ "$flash" -le "$maxFlash" ] && [ "$ram" -le "$maxRam" ]
}

cycles() {
  node avr/run-cycles.mjs build/avr/cycles.hex measured/uno-cycles.json \
    "$(avr-gcc --version | head -1)" "$(make -s print-avr-flags)"
}

# Stand-ins and a few hundred simulated nodes under one fleet run (firmware/test/*.test.ts).
mixed_fleet() { (cd .. && npx vitest run --config vitest.firmware.config.ts); }

step "build host tests and stand-in" make -s -j4 host standin
step "conformance vectors (protocol/vectors)" build/vectors_test ../protocol/vectors
step "core checks" build/core_test
step "fuzzing the core's input (seed 1, 20,000 cases)" build/fuzz_core ../protocol/vectors --seed 1 --cases 20000
step "fuzzing the inbound guard (seed 1, 20,000 streams)" build/fuzz_guard --seed 1 --streams 20000
step "sketch on fake Arduino headers" build/sketch_test
step "AVR build (avr-gcc -mmcu=atmega328p -Os)" make -s -j4 avr
step "AVR size budget (budget.json)" size_check
step "AVR checks (avr8js)" node avr/run-checks.mjs build/avr/checks.hex
step "AVR cycle counts (avr8js)" cycles
step "two stand-ins on a real broker" node test/standin-pair.mjs build/twinfleet-standin
step "a stand-in against a hostile broker" node test/standin-hostile.mjs build/twinfleet-standin
step "mixed fleet: stand-ins and simulated nodes (vitest)" mixed_fleet

echo "firmware: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
