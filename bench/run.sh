#!/bin/sh
# One command for every benchmark scenario: builds release, runs LogStream beside the raw receiver, rsyslog and
# syslog-ng, and writes bench/RESULTS.md and bench/results.json. Options: see bench/run.py --help.
set -e
cd "$(dirname "$0")"
exec python3 run.py "$@"
