#!/usr/bin/env python3
"""Writes data/serving_runs.csv from the ML.ENERGY Leaderboard v3 task files
(github.com/ml-energy/leaderboard, public/data/tasks/{gpqa,lm-arena-chat,
sourcegraph-fim}.json): vLLM on H100 and B200, steady-state GPU energy per
output token at batch 8 to 4,096.

Held out: every configuration of the models whose CRC-32 is divisible by 3
(whole models, so a model's other batches cannot leak into the fit). Rows
with data-parallel attention (data_parallel > 1) are left out: their power
and throughput count eight replicas as one.

usage: tools/import_mlenergy_v3.py TASKS_DIR > data/serving_runs.csv
"""
import csv
import json
import os
import sys
import zlib

# Prompt lengths are not published per configuration; these are the assumed
# means (chat and multiple-choice prompts are short; fill-in-the-middle sends
# the code around the cursor). Decode dominates every task's energy.
INPUT_TOKENS = {"gpqa": 250, "lm-arena-chat": 250, "sourcegraph-fim": 1500}
HARDWARE = {"H100": "H100-SXM5-80GB", "B200": "B200-HGX"}
PRECISION = {"bfloat16": "bf16", "fp8": "fp8", "mxfp4": "mxfp4"}
ARCH = {"Dense Transformer": "dense", "MoE": "moe", "Mamba-Transformer Hybrid": "hybrid"}
LAST_UPDATED = "2026-02-16"


def main(tasks_dir):
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "task", "model", "architecture", "params", "active_params", "hardware",
                  "count", "batch", "max_num_seqs", "precision", "input_tokens",
                  "output_tokens", "energy_per_token_j", "power_w", "tokens_per_s", "role",
                  "source"])
    for task in sorted(INPUT_TOKENS):
        with open(os.path.join(tasks_dir, task + ".json")) as f:
            configs = json.load(f)["configurations"]
        for c in sorted(configs, key=lambda c: (c["model_id"], c["gpu_model"],
                                                 c["num_gpus"], c["max_num_seqs"])):
            if c["data_parallel"] > 1:
                continue
            model = c["model_id"]
            role = "holdout" if zlib.crc32(model.encode()) % 3 == 0 else "fit"
            out.writerow([
                "MLE3-%s-%s-%s-%dx%d-b%d" % (task, model.split("/")[-1], c["gpu_model"],
                                            c["num_gpus"], c["tensor_parallel"],
                                            c["max_num_seqs"]),
                task, model, ARCH[c["architecture"]], "%.4g" % (c["total_params_billions"] * 1e9),
                "%.4g" % (c["activated_params_billions"] * 1e9), HARDWARE[c["gpu_model"]],
                c["num_gpus"], "%.4g" % c["avg_batch_size"], c["max_num_seqs"],
                PRECISION[c["weight_precision"]], INPUT_TOKENS[task],
                "%.5g" % c["avg_output_len"], "%.5g" % c["energy_per_token_joules"],
                "%.5g" % c["avg_power_watts"], "%.5g" % c["output_throughput_tokens_per_sec"],
                role,
                "ML.ENERGY Leaderboard v3 (ml-energy/leaderboard public/data/tasks/%s.json, "
                "%s): vLLM, steady-state GPU energy per output token, power of all %d GPUs; "
                "mean prompt assumed %d tokens" % (task, LAST_UPDATED, c["num_gpus"],
                                                   INPUT_TOKENS[task])])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
