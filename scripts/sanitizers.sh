#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, then under ThreadSanitizer: the Swift unit tests with
# `swift test --sanitize=...`, and the end-to-end tests against a server built with the same sanitizer (debug
# build, its own build folder). Any report fails the run. Usage: scripts/sanitizers.sh [address|thread ...]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
for sanitizer in "${sanitizers[@]}"; do
    build=".build-$sanitizer"
    echo "== unit tests under $sanitizer sanitizer"
    swift test --scratch-path "$build" --sanitize="$sanitizer" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Merging)|Cannot export local symbol'
    echo "== end-to-end tests against a server built with the $sanitizer sanitizer"
    swift build --scratch-path "$build" --sanitize="$sanitizer" --product logstream 2>&1 | tail -1
    LOGSTREAM_BIN="$PWD/$build/debug/logstream" LOGSTREAM_SANITIZER="$sanitizer" \
        python3 -m pytest -p no:cacheprovider -q Tests/EndToEnd
done
