"""libwattprint inside a host that changes what a library meets: a German
locale (comma decimals), and Python's logging taking the library's warnings."""
import logging
import os
import subprocess
import sys

import pytest

import fakehw
import wattprint

HERE = os.path.dirname(os.path.abspath(__file__))

GERMAN = r'''
import json, locale, sys
sys.path[:0] = sys.argv[1:3]
locale.setlocale(locale.LC_ALL, "")  # de_DE.UTF-8: "1,5" is one and a half
assert locale.localeconv()["decimal_point"] == ","
import fakehw, wattprint
with wattprint.Meter(region="FR", pue=1.25, ledger="") as m:
    fakehw.advance(sys.argv[3], [("intel-rapl:0", 36.0)], 1, 0)
    m.add_work(1.5, unit="tokens")
r = m.result
print(json.dumps({"region": r["carbon"]["region"], "g": r["carbon"]["intensity_g_per_kwh"],
                  "pue": r["pue"], "cpu_j": r["energy"]["cpu_j"], "done": r["work"]["done"]}))
'''


@pytest.fixture
def german(tmp_path):
    """A de_DE.UTF-8 locale of the test's own (localedef, from Debian's
    locales), so that no system locale need be generated."""
    loc = tmp_path / "locale"
    loc.mkdir()
    p = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(loc / "de_DE.UTF-8")],
                       capture_output=True, text=True)
    assert (loc / "de_DE.UTF-8").exists(), "localedef failed (apt-get install locales): " + \
        p.stderr
    return {"LOCPATH": str(loc), "LC_ALL": "de_DE.UTF-8"}


def test_a_german_host_gets_the_same_figures(tmp_path, german):
    sysfs, procfs = str(tmp_path / "sys"), str(tmp_path / "proc")
    fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
    fakehw.make_proc(procfs)
    env = dict(os.environ, WATTPRINT_SYSFS=sysfs, WATTPRINT_PROCFS=procfs, **german)
    env.pop("WATTPRINT_REGION", None)
    p = subprocess.run([sys.executable, "-c", GERMAN, os.path.join(HERE, ".."),
                        os.path.join(HERE, "..", "..", "..", "tests", "helpers"), sysfs],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr  # "unknown region 'FR'" under the host's strtod
    import json
    r = json.loads(p.stdout)
    assert r["region"] == "FRA" and r["g"] == pytest.approx(56.04, abs=0.01)
    assert r["pue"] == 1.25 and r["cpu_j"] == pytest.approx(36, rel=1e-3)
    assert r["done"] == 1.5


def test_a_german_hosts_codecarbon_row_has_points(tmp_path, german):
    script = r'''
import ctypes, locale, sys
sys.path[:0] = sys.argv[1:2]
locale.setlocale(locale.LC_ALL, "")
import wattprint
lib = wattprint._load()
out = ctypes.c_char_p()
lib.wattprint_codecarbon_csv.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.POINTER(ctypes.c_char_p)]
run = b'{"run_id": "01a23a0e-921d-76de-8000-000000000001", "status": "completed", "start": "2026-12-01T09:59:58.5Z", "end": "2026-12-01T10:00:00Z", "duration_s": 1.5, "method": "measured", "command": ["train"], "energy": {"total_j": 3600.5, "cpu_j": 3600.5, "dram_j": 0, "gpu_j": 0}, "facility_energy_j": 4500.625, "pue": 1.25, "carbon": {"emissions_g": 0.07, "region": "FR", "region_name": "France", "intensity_g_per_kwh": 56, "intensity_source": "table"}, "channels": []}'
assert lib.wattprint_codecarbon_csv(run, None, ctypes.byref(out)) == 0, lib.wattprint_last_error()
print(out.value.decode().splitlines()[1])
'''
    env = dict(os.environ, **german)
    p = subprocess.run([sys.executable, "-c", script, os.path.join(HERE, "..")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    row = p.stdout.strip()
    assert "1.5" in row.split(",") and "1.25" in row.split(","), row  # duration, pue


def test_warnings_go_to_python_logging(tmp_path, monkeypatch, caplog):
    sysfs, procfs = str(tmp_path / "sys"), str(tmp_path / "proc")
    fakehw.make_zone(sysfs, "intel-rapl:0", "package-0")
    fakehw.make_proc(procfs)
    monkeypatch.setenv("WATTPRINT_SYSFS", sysfs)
    monkeypatch.setenv("WATTPRINT_PROCFS", procfs)
    caplog.set_level(logging.WARNING, logger="wattprint")
    with wattprint.Meter(ledger="/proc/wattprint-cannot/ledger.db") as m:
        pass
    assert any(r.name == "wattprint" and "cannot record this run" in r.getMessage()
               for r in caplog.records), caplog.records


def test_the_library_writes_nothing_to_stderr_by_itself(tmp_path):
    """Without a log function (a C host that set none), stderr stays the host's."""
    src = tmp_path / "host.c"
    src.write_text(r'''
#include <wattprint.h>
int main(void) {
    wattprint_options o = WATTPRINT_OPTIONS_INIT;
    wattprint_meter *m;
    o.ledger = "/proc/wattprint-cannot/ledger.db";
    if (wattprint_open(&o, &m) || wattprint_start(m) || wattprint_stop(m)) return 1;
    wattprint_close(m);
    return 0;
}
''')
    lib = wattprint.library_path()
    include = os.path.join(HERE, "..", "..", "..", "include")
    cc = subprocess.run(["cc", "-I", include, str(src), lib, "-o", str(tmp_path / "host")],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr
    p = subprocess.run([str(tmp_path / "host")], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(lib)))
    assert p.returncode == 0 and p.stderr == "", p.stderr
