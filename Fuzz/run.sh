#!/usr/bin/env bash
# Builds the libFuzzer targets (AddressSanitizer and libFuzzer's coverage on every module) and runs each for a
# bounded time over its committed seed corpus. Usage: Fuzz/run.sh [seconds per target, default 60] [target ...]
# New interesting inputs go to .build/fuzz-corpus/<target>/ (not committed); a crash stops the run, leaves its
# input in .build/fuzz-crashes/ and makes the script exit non-zero: turn it into a unit test, then fix.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzHTTP FuzzHTTPStream FuzzWebSocket FuzzFramer FuzzRecord FuzzQuery FuzzIngest FuzzForward FuzzGELF FuzzClickHouse)

# SwiftPM executables have their own main, so libFuzzer comes without one (its driver is called from ours);
# -sanitize=fuzzer would link a second main.
runtime=$(ls "$(dirname "$(readlink -f "$(command -v swift)")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
mkdir -p .build
if ! swift build -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
    -Xlinker "$runtime" -Xlinker -lstdc++ > .build/fuzz-build.log 2>&1; then
    grep -vE '^\[[0-9]+/[0-9]+\] |Cannot export local symbol' .build/fuzz-build.log | tail -20
    echo "!! the fuzz targets did not build"
    exit 1
fi
bin=$(swift build --show-bin-path)
mkdir -p .build/fuzz-crashes
status=0
for target in "${targets[@]}"; do
    mkdir -p ".build/fuzz-corpus/$target"
    echo "== $target: ${seconds} s"
    if ! "$bin/$target" ".build/fuzz-corpus/$target" "Corpus/$target" -max_total_time="$seconds" -max_len=4096 \
        -artifact_prefix=".build/fuzz-crashes/$target-" -print_final_stats=1 > ".build/fuzz-$target.log" 2>&1; then
        echo "!! $target failed; its input is in Fuzz/.build/fuzz-crashes/:"
        grep -E "ERROR|Fatal error|SUMMARY|crash-|Test unit written" ".build/fuzz-$target.log" | head -5
        status=1
    else
        grep -E "stat::number_of_executed_units|DONE" ".build/fuzz-$target.log" | tail -1
    fi
done
exit $status
