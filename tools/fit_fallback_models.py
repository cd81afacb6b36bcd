#!/usr/bin/env python3
"""Fits and checks the fallback power models on published measurements.

CPU: the published load profiles in data/cpu_load_profiles.csv (package
energy measured by RAPL over 30 s phases).

The model: P = TDP x sockets x (a + (b - a) x u^g), u = machine-wide
utilisation. a, b, g minimise the median relative error on the rows marked
"fit" (every other phase of each profile); the "holdout" rows and a
leave-one-CPU-out refit test it. The
"suspect" rows (a second E3-1240 V2 machine that reads package + core domains,
see docs/methodology.md) are reported but neither fitted nor scored.

Memory: the per-DIMM model (src/sensors/power_models.h) against the module
and wall measurements in data/dram_power.csv, idle at no activity and load at
full activity.

usage: tools/fit_fallback_models.py   (pure Python; prints the tables that
                                       docs/methodology.md quotes)
"""
import csv
import itertools
import os
import statistics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The constants the C model uses (src/sensors/power_models.h), checked below.
SHIPPED = (0.08, 0.60, 0.25)
CCF = (0.74, 3.5)  # per-thread watts, idle and full (Cloud Carbon Footprint)
DIMM = (0.5, 3.0)  # watts per DIMM, idle and busy (src/sensors/power_models.h)


def rows():
    with open(os.path.join(ROOT, "data", "cpu_load_profiles.csv")) as f:
        for r in csv.DictReader(f):
            r["tdp"] = float(r["tdp_w"]) * int(r["sockets"])
            r["u"] = float(r["utilisation"])
            r["w"] = float(r["measured_w"])
            yield r


def freq_model(params, r):
    """The variant tried and not shipped: the dynamic part scaled by the mean
    current frequency over the maximum, as scaling_cur_freq would give."""
    a, b, g, al = params
    phi = min(1.0, float(r["freq_mhz"]) / float(r["max_mhz"]))
    return r["tdp"] * (a + (b - a) * r["u"] ** g * phi ** al)


def fit_freq(data):
    grid = itertools.product(frange(0.04, 0.30, 0.02), frange(0.40, 1.20, 0.04),
                             frange(0.2, 1.2, 0.1), frange(0.0, 3.0, 0.5))
    return min(grid, key=lambda p: score(errors(lambda r: freq_model(p, r), data)))


def model(params, r):
    a, b, g = params
    return r["tdp"] * (a + (b - a) * r["u"] ** g)


def teads(r):
    """The former model: Teads/Boavizta curve x TDP (Davy 2021)."""
    xs, ys = [0, 0.1, 0.5, 1.0], [0.12, 0.32, 0.75, 1.02]
    u = min(max(r["u"], 0.0), 1.0)
    for i in range(1, 4):
        if u <= xs[i]:
            return r["tdp"] * (ys[i - 1] + (ys[i] - ys[i - 1]) * (u - xs[i - 1]) / (xs[i] - xs[i - 1]))
    return r["tdp"] * ys[3]


def ccf(r):
    return int(r["threads"]) * (CCF[0] + r["u"] * (CCF[1] - CCF[0]))


def errors(predict, data):
    """{cpu: [relative errors]}"""
    out = {}
    for r in data:
        out.setdefault(r["cpu"], []).append(abs(predict(r) - r["w"]) / r["w"])
    return out


def score(errs):
    """The fit's objective: the median relative error, the figure it is judged by."""
    return statistics.median([e for v in errs.values() for e in v])


def frange(lo, hi, step):
    n = int(round((hi - lo) / step))
    return [round(lo + i * step, 4) for i in range(n + 1)]


def fit(data):
    grid = itertools.product(frange(0.04, 0.30, 0.01), frange(0.40, 1.00, 0.01),
                             frange(0.2, 1.5, 0.05))
    return min(grid, key=lambda p: score(errors(lambda r: model(p, r), data)))


def report(title, errs):
    every = [e for v in errs.values() for e in v]
    print("%s: median %.1f %% over %d points" % (title, 100 * statistics.median(every),
                                                   len(every)))
    for cpu, v in sorted(errs.items()):
        print("  %-42s median %5.1f %%  worst %5.1f %%  (%d points)" %
              (cpu, 100 * statistics.median(v), 100 * max(v), len(v)))


def percentile(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main():
    data = list(rows())
    scored = [r for r in data if r["role"] != "suspect"]
    fitted = fit([r for r in scored if r["role"] == "fit"])
    print("fitted on the fit rows: a=%.2f b=%.2f g=%.2f (shipped %s)" % (fitted + (SHIPPED,)))
    held = [r for r in scored if r["role"] == "holdout"]
    report("held-out phases, shipped model", errors(lambda r: model(SHIPPED, r), held))
    report("all phases, shipped model", errors(lambda r: model(SHIPPED, r), scored))

    loco, ratios = {}, []
    for cpu in sorted({r["cpu"] for r in scored}):
        p = fit([r for r in scored if r["cpu"] != cpu])
        test = [r for r in scored if r["cpu"] == cpu]
        loco.update(errors(lambda r: model(p, r), test))
        ratios += [r["w"] / model(p, r) for r in test]
    report("leave one CPU out (refitted without it)", loco)
    print("measured / estimated, leave one CPU out: 10th percentile %.2f, 90th %.2f" %
          (percentile(ratios, 0.1), percentile(ratios, 0.9)))

    p = fit_freq([r for r in scored if r["role"] == "fit"])
    report("frequency variant (not shipped), held-out phases",
           errors(lambda r: freq_model(p, r), held))
    loco = {}
    for cpu in sorted({r["cpu"] for r in scored}):
        q = fit_freq([r for r in scored if r["cpu"] != cpu])
        loco.update(errors(lambda r: freq_model(q, r), [r for r in scored if r["cpu"] == cpu]))
    report("frequency variant, leave one CPU out", loco)

    report("per-thread model (VMs), all phases", errors(ccf, scored))
    ratios = [r["w"] / ccf(r) for r in scored]
    print("measured / estimated, per-thread model: 10th percentile %.2f, 90th %.2f" %
          (percentile(ratios, 0.1), percentile(ratios, 0.9)))
    report("former model (Teads curve x TDP), all phases", errors(teads, scored))
    report("CodeCarbon's own estimate, all phases",
           errors(lambda r: float(r["codecarbon_w"]), scored))
    suspect = [r for r in data if r["role"] == "suspect"]
    report("suspect machine (not scored), shipped model",
           errors(lambda r: model(SHIPPED, r), suspect))


def ram_check():
    print("memory, per-DIMM model against published measurements:")
    with open(os.path.join(ROOT, "data", "dram_power.csv")) as f:
        for r in csv.DictReader(f):
            est = int(r["dimms"]) * DIMM[0 if r["state"] == "idle" else 1]
            w = float(r["measured_w"])
            print("  %-30s %-7s %5.2f W measured, %5.2f W estimated, %+4.0f %% (%s, %s)" %
                  (r["id"], r["role"], w, est, 100 * (est - w) / w, r["state"], r["boundary"]))


if __name__ == "__main__":
    main()
    ram_check()
