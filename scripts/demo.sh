#!/bin/sh
# make demo: train a small real language model (examples/tinylm) under
# wattprint, then say what its measured energy per token would mean at the
# token count of GPT-3's training (300 billion). Runs from the repository root.
set -eu
ledger=build/demo-ledger.db
region=${WATTPRINT_REGION:-}
echo "== wattprint run -- build/tinylm   (a character-level language model; it reports tokens)" >&2
build/wattprint run --ledger "$ledger" --project demo --experiment tinylm \
	--json build/demo-run.json -- build/tinylm
echo >&2
echo "== wattprint estimate --from last --total-work 300e9   (GPT-3's 300 billion tokens)" >&2
build/wattprint estimate --ledger "$ledger" --from last --total-work 300e9
build/wattprint report --ledger "$ledger" last --html build/demo-report.html
echo >&2
echo "The report: build/demo-report.html. The run is recorded in $ledger (wattprint ls --ledger $ledger); its JSON is in" \
	"build/demo-run.json.${region:+ Region: $region.}" >&2
