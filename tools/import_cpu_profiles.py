#!/usr/bin/env python3
"""Adds published turbostress load profiles to data/cpu_load_profiles.csv.

Sources (package power by turbostat/RAPL while stress-ng loads every thread
to N %, 10 % steps):
- Teads' turbostress reports (github.com/github-benjamin-davy/turbostressreports,
  CC0, 2021): AWS bare-metal instances, one file per run;
- Boavizta's Energizta (github.com/Boavizta/Energizta, data/cpu.csv at
  1a6f376, 2022-09-16): the same tool's results on other providers' and
  on-premise servers (its AWS rows are Teads' runs, taken here from Teads'
  own files).

The CPU is the unit of the split, so a CPU's phases are all fitted or all
held out: a CPU is held out when the CRC-32 of its name is divisible by 3
(the rule tools/import_mlenergy_v3.py uses for models), fixed before any fit.
CodeCarbon's rows already in the file keep their values and take their role
from the same rule, except the machine marked "suspect".

Teads' first runs of February 2021 (one measurement per step; the same
instance types were measured again in June with 60 per step, whose idle
reads half) are kept as "superseded": reported, neither fitted nor scored.
A CPU whose TDP is not in data/cpu_tdp.csv (the Platinum 8252C) is left out:
wattprint would not use the TDP curve for it.

usage: tools/import_cpu_profiles.py TURBOSTRESS_DIR ENERGIZTA_CPU_CSV
           < data/cpu_load_profiles.csv > new.csv
"""
import csv
import glob
import os
import re
import sys
import zlib

FIELDS = ["cpu", "tdp_w", "sockets", "cores", "threads", "max_mhz", "load", "phase",
          "utilisation", "freq_mhz", "measured_w", "codecarbon_w", "role", "source"]
TDP_TABLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "data", "cpu_tdp.csv")


def role(cpu):
    base = re.sub(r" \(.*\)$", "", cpu)
    return "holdout" if zlib.crc32(base.encode()) % 3 == 0 else "fit"


def tdp_of(name):
    with open(TDP_TABLE) as f:
        for r in csv.DictReader(f):
            if r["name"] == name:
                return float(r["tdp_w"])
    return None


def cpuinfo(text, key):
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.strip('"').split(":")[0].strip() == key]


def teads_rows(path):
    text = open(path).read().replace('"', "")
    model = cpuinfo(text, "model name")[0]
    name = re.sub(r"\(R\)| @.*", "", model).replace(" CPU", "").strip()
    sockets = len(set(cpuinfo(text, "physical id")))
    cores = int(cpuinfo(text, "cpu cores")[0])
    threads = len(cpuinfo(text, "processor"))
    tdp = tdp_of(name)
    if tdp is None:
        return []
    cpu = name + (" (two sockets)" if sockets == 2 else "")
    stem = os.path.basename(path)[:-4]
    superseded = "repeat60" not in stem
    out = []
    for line in text.splitlines():
        f = line.split(",")
        if f[0] != "CPUStress" or len(f) < 4:
            continue
        load = int(f[2])
        out.append({"cpu": cpu, "tdp_w": "%g" % tdp, "sockets": sockets, "cores": cores,
                    "threads": threads, "max_mhz": "", "load": "all_cores",
                    "phase": load // 10, "utilisation": "%.3f" % (load / 100),
                    "freq_mhz": "", "measured_w": f[3], "codecarbon_w": "",
                    "role": "superseded" if superseded else role(cpu),
                    "source": "Teads turbostress report %s (2021, CC0): PkgWatt at "
                              "stress-ng -l %d on every thread" % (stem, load)})
    return out


def energizta_rows(path):
    """Its decimals were written with commas and not quoted, so a row's
    numbers are read from both ends: 8 fields at the front, the TDP, the
    repeat count, idle, ten load steps and four other tests at the back."""
    out = []
    with open(path) as f:
        lines = f.read().splitlines()[1:]
    for line in lines:
        f = line.split(",")
        if not f[0] or f[0] == "AWS":
            continue
        name = "Intel " + re.sub(r"E3 (\d+)v(\d)", r"E3-\1 v\2", f[2])
        tdp = tdp_of(name)
        sockets, threads, cores = int(f[4]), int(f[3]), int(f[6])
        back = f[-17:]
        assert float(back[0]) == tdp, (name, back[0], tdp)
        steps = back[2:13]
        cpu = name + (" (two sockets)" if sockets == 2 else "")
        for i, w in enumerate(steps):
            out.append({"cpu": cpu, "tdp_w": "%g" % tdp, "sockets": sockets,
                        "cores": cores, "threads": threads, "max_mhz": "",
                        "load": "all_cores", "phase": i, "utilisation": "%.3f" % (i / 10),
                        "freq_mhz": "", "measured_w": w, "codecarbon_w": "",
                        "role": role(cpu),
                        "source": "Boavizta Energizta data/cpu.csv (1a6f376, 2022-09-16), "
                                  "%s: turbostress PkgWatt at %d %%" % (f[0], 10 * i)})
    return out


def main(turbostress_dir, energizta_csv):
    old = [r for r in csv.DictReader(sys.stdin) if r["source"].startswith("CodeCarbon")]
    for r in old:
        if r["role"] != "suspect":
            r["role"] = role(r["cpu"])
    new = []
    for path in sorted(glob.glob(os.path.join(turbostress_dir, "*.csv"))):
        new += teads_rows(path)
    new += energizta_rows(energizta_csv)
    w = csv.DictWriter(sys.stdout, FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(old + new)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
