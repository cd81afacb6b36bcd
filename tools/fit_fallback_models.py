#!/usr/bin/env python3
"""Fits and checks the fallback power models on published measurements.

CPU: the published load profiles in data/cpu_load_profiles.csv (package
power measured by RAPL at load steps on 20 CPUs: CodeCarbon's four, Teads'
AWS bare-metal runs, Boavizta Energizta's other servers; see
tools/import_cpu_profiles.py).

The model: P = TDP x sockets x (a + (full - a) x u^g), u = machine-wide
utilisation, full = min(c, b x (n / 16)^k), n = threads a socket (at least
8, the fewest the profiles hold). a, the idle share, is the median of the
fitted CPUs' measured idle; b, g, k and c minimise the largest of the fitted
CPUs' median relative errors (ties broken by their mean), since what is asked
of the model is that no CPU be far off. The CPUs marked "holdout" (whole
CPUs, chosen by a fixed rule before any fit) and a leave-one-CPU-out refit
test it. "suspect" rows (a second E3-1240 V2 machine that reads package +
core domains) and "superseded" rows (Teads' first runs, measured again later)
are reported, neither fitted nor scored; see docs/methodology.md.

Memory: the per-DIMM model (src/sensors/power_models.h) against the module
and wall measurements in data/dram_power.csv, idle at no activity and load at
full activity.

usage: tools/fit_fallback_models.py   (Python 3 with numpy; prints the tables
                                       that docs/methodology.md quotes)
"""
import csv
import os
import statistics

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The constants the C model uses (src/sensors/power_models.h), checked below:
# idle share, full-load share at 16 threads a socket, curve exponent, threads
# exponent, the full-load share's cap.
SHIPPED = (0.13, 0.82, 0.75, 0.75, 1.15)
THREADS_REF, THREADS_MIN = 16, 8
ONE_CURVE = (0.13, 0.97, 0.55)  # the former: one curve for every CPU, median fit
PREVIOUS = (0.08, 0.60, 0.25)  # before that: fitted on CodeCarbon's four CPUs alone
CCF = (0.74, 3.5)  # per-thread watts, idle and full (Cloud Carbon Footprint)
DIMM = (0.5, 3.0)  # watts per DIMM, idle and busy (src/sensors/power_models.h)


def axes(*ranges):
    """Every combination of the ranges (lo, hi, step), as columns."""
    mesh = np.meshgrid(*(np.arange(lo, hi + step / 2, step) for lo, hi, step in ranges),
                       indexing="ij")
    return [x.ravel()[:, None] for x in mesh]


ONE_CURVE_GRID = axes((0.04, 0.40, 0.01), (0.40, 1.30, 0.01), (0.10, 1.50, 0.05))
GRID = axes((0.50, 1.20, 0.02), (0.40, 1.40, 0.05), (0.0, 1.0, 0.05), (0.90, 1.30, 0.05))


def rows():
    with open(os.path.join(ROOT, "data", "cpu_load_profiles.csv")) as f:
        for r in csv.DictReader(f):
            r["tdp"] = float(r["tdp_w"]) * int(r["sockets"])
            r["u"] = float(r["utilisation"])
            r["w"] = float(r["measured_w"])
            r["n"] = max(THREADS_MIN, int(r["threads"]) / int(r["sockets"])) / THREADS_REF
            yield r


def column(data, key):
    return np.array([r[key] for r in data], dtype=float)


def predict(params, tdp, u, n):
    """The shipped form; params may be columns of a grid."""
    a, b, g, k, c = params
    return tdp * (a + (np.minimum(c, b * n ** k) - a) * u ** g)


def model(params, r):
    return float(predict(params, r["tdp"], r["u"], r["n"]))


def one_curve(params, r):
    a, b, g = params
    return r["tdp"] * (a + (b - a) * r["u"] ** g)


def idle_share(data):
    """The median over CPUs of each one's measured idle over its TDP."""
    idle = {}
    for r in data:
        if int(r["phase"]) == 0:
            idle.setdefault(r["cpu"], []).append(r["w"] / r["tdp"])
    return round(statistics.median(statistics.mean(v) for v in idle.values()), 2)


def per_cpu_medians(est, data):
    """{grid point x CPU} median relative errors of est (grid x rows)."""
    names = np.array([r["cpu"] for r in data])
    err = np.abs(est - column(data, "w")) / column(data, "w")
    return np.array([np.median(err[:, names == c], axis=1) for c in sorted(set(names))])


def fit(data):
    """The shipped form: a measured, the rest minimising the worst CPU."""
    a = idle_share(data)
    best = None
    for s in range(0, len(GRID[0]), 20000):
        b, g, k, c = (x[s:s + 20000] for x in GRID)
        est = predict((a, b, g, k, c), column(data, "tdp"), column(data, "u"), column(data, "n"))
        m = per_cpu_medians(est, data)
        score = m.max(axis=0) + 0.01 * m.mean(axis=0)
        i = int(np.argmin(score))
        if best is None or score[i] < best[0]:
            best = (score[i], (a,) + tuple(round(float(x[i]), 4) for x in (b, g, k, c)))
    return best[1]


def fit_one_curve(data, grid=ONE_CURVE_GRID, predict_grid=None):
    """The grid point with the least median relative error over data: how
    the former single curve (and the frequency variant) were fitted."""
    tdp, u, w = column(data, "tdp"), column(data, "u"), column(data, "w")
    est = predict_grid(grid, data) if predict_grid else \
        tdp * (grid[0] + (grid[1] - grid[0]) * u ** grid[2])
    i = int(np.argmin(np.median(np.abs(est - w) / w, axis=1)))
    return tuple(round(float(x[i]), 4) for x in grid)


FREQ_GRID = axes((0.04, 0.30, 0.02), (0.40, 1.20, 0.04), (0.2, 1.2, 0.1), (0.0, 3.0, 0.5))


def freq_model(params, r):
    """The variant tried and not shipped: the dynamic part scaled by the mean
    current frequency over the maximum, as scaling_cur_freq would give (only
    CodeCarbon's profiles record the frequency)."""
    a, b, g, al = params
    phi = min(1.0, float(r["freq_mhz"]) / float(r["max_mhz"]))
    return r["tdp"] * (a + (b - a) * r["u"] ** g * phi ** al)


def freq_predict(grid, data):
    a, b, g, al = grid
    phi = np.array([min(1.0, float(r["freq_mhz"]) / float(r["max_mhz"])) for r in data])
    return column(data, "tdp") * (a + (b - a) * column(data, "u") ** g * phi ** al)


def teads(r):
    """The Teads/Boavizta curve x TDP (Davy 2021), wattprint's first model."""
    xs, ys = [0, 0.1, 0.5, 1.0], [0.12, 0.32, 0.75, 1.02]
    u = min(max(r["u"], 0.0), 1.0)
    for i in range(1, 4):
        if u <= xs[i]:
            return r["tdp"] * (ys[i - 1] + (ys[i] - ys[i - 1]) * (u - xs[i - 1]) / (xs[i] - xs[i - 1]))
    return r["tdp"] * ys[3]


def ccf(r):
    return int(r["threads"]) * (CCF[0] + r["u"] * (CCF[1] - CCF[0]))


def errors(estimate, data):
    """{cpu: [relative errors]}"""
    out = {}
    for r in data:
        out.setdefault(r["cpu"], []).append(abs(estimate(r) - r["w"]) / r["w"])
    return out


def report(title, errs):
    every = [e for v in errs.values() for e in v]
    medians = {cpu: statistics.median(v) for cpu, v in errs.items()}
    print("%s: median %.1f %% over %d points of %d CPUs, %d CPUs above 40 %%" %
          (title, 100 * statistics.median(every), len(every), len(errs),
           sum(m > 0.40 for m in medians.values())))
    for cpu, v in sorted(errs.items()):
        print("  %-42s median %5.1f %%  worst %5.1f %%  (%d points)" %
              (cpu, 100 * medians[cpu], 100 * max(v), len(v)))


def percentile(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def leave_one_cpu_out(scored, fitter, estimate):
    errs, ratios = {}, []
    for cpu in sorted({r["cpu"] for r in scored}):
        p = fitter([r for r in scored if r["cpu"] != cpu])
        test = [r for r in scored if r["cpu"] == cpu]
        errs.update(errors(lambda r: estimate(p, r), test))
        ratios += [r["w"] / estimate(p, r) for r in test]
    return errs, ratios


def median_error(estimate, data):
    return 100 * statistics.median(abs(estimate(r) - r["w"]) / r["w"] for r in data)


def check_shipped(scored):
    """The shipped form: fitted on the fit CPUs, scored on the held-out ones
    and by refitting without each CPU; the range and its coverage."""
    held = [r for r in scored if r["role"] == "holdout"]
    fitted = fit([r for r in scored if r["role"] == "fit"])
    print("fitted on the fit CPUs: a=%.2f b=%.2f g=%.2f k=%.2f c=%.2f (shipped %s)" %
          (fitted + (SHIPPED,)))
    report("held-out CPUs, shipped model", errors(lambda r: model(SHIPPED, r), held))
    report("all CPUs, shipped model", errors(lambda r: model(SHIPPED, r), scored))
    loco, ratios = leave_one_cpu_out(scored, fit, model)
    report("leave one CPU out (refitted without it)", loco)
    lo, hi = percentile(ratios, 0.05), percentile(ratios, 0.95)
    print("measured / estimated, leave one CPU out: 5th percentile %.2f, median %.2f, "
          "95th %.2f" % (lo, percentile(ratios, 0.5), hi))
    inside = [lo <= r["w"] / model(SHIPPED, r) <= hi for r in held]
    print("the shipped range [%.2f, %.2f] holds %d of %d held-out phases (%.0f %%)" %
          (lo, hi, sum(inside), len(inside), 100.0 * sum(inside) / len(inside)))


def check_one_curve(scored):
    """The former model, one curve for every CPU fitted by the median error,
    scored the same way in the same run."""
    held = [r for r in scored if r["role"] == "holdout"]
    fitted = fit_one_curve([r for r in scored if r["role"] == "fit"])
    print("one curve, fitted on the fit CPUs: a=%.2f b=%.2f g=%.2f" % fitted)
    report("held-out CPUs, one curve", errors(lambda r: one_curve(fitted, r), held))
    loco, ratios = leave_one_cpu_out(scored, fit_one_curve, one_curve)
    report("one curve, leave one CPU out", loco)
    print("measured / estimated, one curve, leave one CPU out: 5th percentile %.2f, 95th %.2f" %
          (percentile(ratios, 0.05), percentile(ratios, 0.95)))
    for source in ("CodeCarbon", "Teads", "Boavizta"):
        rows_ = [r for r in scored if r["source"].startswith(source)]
        print("by source, %-10s (%d phases): shipped %.1f %%, one curve %.1f %%, the curve "
              "fitted on CodeCarbon's four %.1f %%" %
              (source, len(rows_), median_error(lambda r: model(SHIPPED, r), rows_),
               median_error(lambda r: one_curve(ONE_CURVE, r), rows_),
               median_error(lambda r: one_curve(PREVIOUS, r), rows_)))
    others = [r for r in scored if not r["source"].startswith("CodeCarbon")]
    report("the curve fitted on CodeCarbon's four, on the other CPUs",
           errors(lambda r: one_curve(PREVIOUS, r), others))


def full_load_shares(scored):
    """Each CPU's power at full load over its TDP, by threads a socket: what
    the threads term stands on."""
    share = {}
    for r in scored:
        if r["u"] >= 0.95 and r["load"] == "all_cores":
            share.setdefault((r["n"] * THREADS_REF, r["cpu"]), []).append(r["w"] / r["tdp"])
    print("full-load power over TDP, by threads a socket (at least %d):" % THREADS_MIN)
    for (n, cpu), v in sorted(share.items()):
        print("  %3.0f  %-42s %.2f" % (n, cpu, statistics.mean(v)))
    for title, keep in (("20 or fewer", lambda n: n <= 20), ("more than 20", lambda n: n > 20)):
        v = [statistics.mean(x) for (n, _), x in share.items() if keep(n)]
        print("  %s threads a socket: %d CPUs, %.2f-%.2f, median %.2f" %
              (title, len(v), min(v), max(v), statistics.median(v)))


def check_covariates(scored):
    """The shipped form with another measure of a part's size in place of
    threads a socket, each scaled to a reference and floored at the profiles'
    least, left out one CPU at a time."""
    for title, of, ref in (("cores a socket", lambda r: int(r["cores"]) / int(r["sockets"]), 8),
                           ("TDP a socket", lambda r: float(r["tdp_w"]), 100)):
        least = min(of(r) for r in scored)
        alt = [dict(r, n=max(least, of(r)) / ref) for r in scored]
        loco, _ = leave_one_cpu_out(alt, fit, model)
        report("the form with %s instead, leave one CPU out" % title, loco)


def main():
    data = list(rows())
    scored = [r for r in data if r["role"] in ("fit", "holdout")]
    check_shipped(scored)
    check_one_curve(scored)
    full_load_shares(scored)
    check_covariates(scored)
    codecarbon = [r for r in scored if r["source"].startswith("CodeCarbon")]
    loco, _ = leave_one_cpu_out(codecarbon,
                                lambda d: fit_one_curve(d, FREQ_GRID, freq_predict),
                                freq_model)
    report("frequency variant (not shipped), CodeCarbon's CPUs, leave one CPU out", loco)
    loco, _ = leave_one_cpu_out(codecarbon, fit, model)
    report("shipped form, the same four CPUs, leave one CPU out", loco)

    report("per-thread model (VMs), all CPUs", errors(ccf, scored))
    ratios = [r["w"] / ccf(r) for r in scored]
    print("measured / estimated, per-thread model: 5th percentile %.2f, 95th %.2f" %
          (percentile(ratios, 0.05), percentile(ratios, 0.95)))
    report("Teads curve x TDP, all CPUs", errors(teads, scored))
    report("CodeCarbon's own estimate, its four CPUs",
           errors(lambda r: float(r["codecarbon_w"]), codecarbon))
    for role in ("suspect", "superseded"):
        report("%s rows (not scored), shipped model" % role,
               errors(lambda r: model(SHIPPED, r), [r for r in data if r["role"] == role]))


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
