#!/usr/bin/env python3
"""Writes data/electricity_water.csv: the water a country's electricity
consumes at its power plants, litres per kWh (off-site water, "scope 2").

Source: EcoLogits' table of electricity-mix impacts (github.com/genai-impact/
ecologits, ecologits/data/electricity_mixes.csv at 0adc8ab, 2025-10-09; MPL-2.0),
its "wue" column: per country, the generation mix weighted by the water each
fuel's plants consume, by the World Resources Institute's method (Reig et al.,
"Guidance for Calculating Water Use Embedded in Purchased Electricity", WRI
2020); "WOR" is its world average. Li et al. ("Making AI Less Thirsty", 2023)
use 3.14 L/kWh for the United States from the same WRI work; this table has
3.13.

usage: tools/import_electricity_water.py ECOLOGITS_ELECTRICITY_MIXES_CSV
           > data/electricity_water.csv
"""
import csv
import sys

# short: every run's document carries it (docs/methodology.md cites in full)
SOURCE = "WRI 2020 method, EcoLogits 0adc8ab"


def main(path):
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["iso3", "water_l_per_kwh", "source"])
    with open(path, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: r["name"])
    for r in rows:
        code = "world" if r["name"] == "WOR" else r["name"]
        litres = float(r["wue"])
        if not 0 <= litres < 100:
            sys.exit("%s: %r is not a water intensity in L/kWh" % (r["name"], r["wue"]))
        out.writerow([code, "%.4g" % litres, SOURCE])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
