"""The demo workload: tinylm really learns, and reports its tokens."""
import os
import re
import subprocess

import pytest


@pytest.fixture(scope="module")
def tinylm():
    path = os.environ.get("TINYLM_BIN")
    if not path:
        pytest.skip("TINYLM_BIN not set")
    return path


def test_loss_falls(tinylm):
    p = subprocess.run([tinylm, "--tokens", "30000"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"held-out loss ([0-9.]+) before training, ([0-9.]+) after", p.stdout)
    before, after = float(m.group(1)), float(m.group(2))
    assert before > 3.0           # about ln(27): it starts knowing nothing
    assert after < 0.6 * before   # and learns the grammar's structure


def test_reports_tokens_through_wattprint(runner, tinylm):
    p, r = runner.run(["--", tinylm, "--tokens", "20000"])
    assert p.returncode == 0, p.stderr
    w = r["work"]
    assert w["unit"] == "tokens" and w["done"] == 20000 and w["total"] == 20000
    assert w["energy_per_unit_j"] == pytest.approx(r["energy"]["total_j"] / 20000, rel=1e-6)


def test_bad_arguments(tinylm):
    assert subprocess.run([tinylm, "--tokens", "5"], capture_output=True).returncode == 2
    assert subprocess.run([tinylm, "--bogus"], capture_output=True).returncode == 2
