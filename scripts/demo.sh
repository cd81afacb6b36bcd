#!/bin/sh
# make demo: measure a real CPU-bound workload (a dense matrix multiply) with
# wattprint and print its energy. Runs from the repository root.
set -eu
echo "== wattprint run -- build/wp_matmul 512 60  (a CPU-bound dense matrix multiply)" >&2
build/wattprint run --no-ledger --json build/demo-run.json -- build/wp_matmul 512 60
echo "== the result as JSON: build/demo-run.json" >&2
