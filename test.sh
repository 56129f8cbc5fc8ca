#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs what the tests need, builds, then runs the Swift unit
# tests and the end-to-end tests against the release binary. Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

apt_packages=()
command -v logger >/dev/null || apt_packages+=(bsdutils)
command -v curl >/dev/null || apt_packages+=(curl)
command -v nc >/dev/null || apt_packages+=(netcat-openbsd)
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
[ -x /usr/sbin/rsyslogd ] || apt_packages+=(rsyslog)
# rsyslog's OpenSSL stream driver, for syslog over TLS; the openssl command makes the tests' certificates.
[ -f /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] || apt_packages+=(rsyslog-openssl)
command -v openssl >/dev/null || apt_packages+=(openssl)
[ -f /usr/include/openssl/sha.h ] || apt_packages+=(libssl-dev)
# ClickHouse for the shipping tests; the tests start private instances, never the system's service.
command -v clickhouse-server >/dev/null || apt_packages+=(clickhouse-server clickhouse-client)
if [ ${#apt_packages[@]} -gt 0 ]; then
    echo "== installing ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi
# Real clients of the shippers' endpoints: the OpenTelemetry SDK and exporter, a Loki handler, the protobuf and
# snappy libraries (Loki's wire format, built by the tests), the official Elasticsearch client; GELF's graypy and
# pygelf, Fluent's fluent-logger, and msgpack (Forward's wire format, for the shapes Docker and Fluent Bit send).
python3 -c 'import websockets, pytest, selenium, opentelemetry.exporter.otlp.proto.http, logging_loki, snappy, google.protobuf, elasticsearch, graypy, pygelf, fluent.sender, msgpack' 2>/dev/null ||
    python3 -m pip install -q 'websockets>=12' pytest selenium opentelemetry-sdk opentelemetry-exporter-otlp-proto-http \
        python-logging-loki python-snappy protobuf elasticsearch graypy pygelf fluent-logger msgpack

echo "== layering: each part names only the parts it may use (docs/ARCHITECTURE.md)"
python3 scripts/check-layering.py

echo "== unit tests (swift test)"
swift test 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Merging)'

echo "== release build"
swift build -c release --product logstream
swift build -c release --product logstream-gen  # the soak's load

echo "== end-to-end tests (real binary, real clients)"
LOGSTREAM_BIN="$PWD/.build/release/logstream" python3 -m pytest -p no:cacheprovider -q Tests/EndToEnd

echo "== soak: 2 minutes of mixed, partly hostile load (bench/soak.py --minutes 30 for the long one)"
python3 bench/soak.py --minutes 2 --check --no-write | tail -6

echo "== fuzzing: every parser of network bytes, ${FUZZ_SECONDS:-20} s each (Fuzz/run.sh 600 for a longer run)"
Fuzz/run.sh "${FUZZ_SECONDS:-20}"
