"""CodeCarbon's names over wattprint: change the import line, keep the script.

    from wattprint.compat import EmissionsTracker      # was: from codecarbon import ...
    tracker = EmissionsTracker(project_name="bert")
    tracker.start()
    train()
    kg = tracker.stop()                                # kg CO2e, as CodeCarbon's

EmissionsTracker, OfflineEmissionsTracker and track_emissions take
CodeCarbon's common arguments (project_name, experiment_id, country_iso_code,
pue, output_dir, output_file, save_to_file, measure_power_secs,
tracking_mode); the others are accepted and said once to be ignored. With
save_to_file (the default) each stop appends a row to output_dir/emissions.csv
exactly as CodeCarbon 3.x writes it (wattprint export --format codecarbon)."""
import ctypes
import functools
import json
import os
import sys

from . import Meter, WattprintError, _check, _load

__all__ = ["EmissionsTracker", "OfflineEmissionsTracker", "track_emissions", "EmissionsData"]

_HONOURED = {"project_name", "experiment_id", "country_iso_code", "pue", "output_dir",
             "output_file", "save_to_file", "measure_power_secs", "tracking_mode"}
_said = set()


def _say_ignored(names):
    for name in sorted(set(names) - _said):
        _said.add(name)
        sys.stderr.write("wattprint.compat: %s= is CodeCarbon's and has no effect here\n" % name)


class EmissionsData:
    """The figures of a run or a task, with CodeCarbon's attribute names and
    units (kWh, kg, s, W)."""

    def __init__(self, run, name=None, run_id=None):
        # a run JSON, or a window's (which has its grams and facility energy flat)
        e, d = run["energy"], run["duration_s"]
        grams = run["carbon"]["emissions_g"] if "carbon" in run else run["emissions_g"]
        pue = run.get("pue") or (run["facility_energy_j"] / e["total_j"] if e["total_j"] else 1.0)
        self.run_id = run.get("run_id", run_id)
        self.task_name = name
        self.duration = d
        self.emissions = grams / 1000.0
        self.emissions_rate = self.emissions / d if d > 0 else 0.0
        self.cpu_energy = e["cpu_j"] * pue / 3.6e6
        self.gpu_energy = e["gpu_j"] * pue / 3.6e6
        self.ram_energy = e["dram_j"] * pue / 3.6e6
        self.energy_consumed = self.cpu_energy + self.gpu_energy + self.ram_energy
        self.cpu_power = e["cpu_j"] / d if d > 0 else 0.0
        self.gpu_power = e["gpu_j"] / d if d > 0 else 0.0
        self.ram_power = e["dram_j"] / d if d > 0 else 0.0
        self.pue = pue
        self.country_iso_code = run.get("carbon", {}).get("region", "")

    def __repr__(self):
        return "EmissionsData(emissions=%g kg, energy_consumed=%g kWh, duration=%g s)" % (
            self.emissions, self.energy_consumed, self.duration)


def _csv_row(run, path):
    """The CodeCarbon row (with the header when the file is new or empty)."""
    header = None
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, newline="") as f:
            header = f.readline()
    out = ctypes.c_char_p()
    lib = _load()
    lib.wattprint_codecarbon_csv.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.POINTER(ctypes.c_char_p)]
    _check(lib.wattprint_codecarbon_csv(json.dumps(run).encode(),
                                        header.encode() if header else None, ctypes.byref(out)))
    try:
        return out.value.decode(), header is not None
    finally:
        lib.wattprint_free(out)


class EmissionsTracker:
    """CodeCarbon's tracker: start(), stop() -> kg CO2e, start_task(name) /
    stop_task() -> EmissionsData, or a context manager."""

    def __init__(self, project_name="codecarbon", experiment_id=None, measure_power_secs=15,
                 output_dir=".", output_file="emissions.csv", save_to_file=True,
                 country_iso_code=None, pue=1.0, tracking_mode="machine", **others):
        if tracking_mode not in ("machine", "process"):
            raise ValueError("tracking_mode must be 'machine' or 'process', not %r"
                             % (tracking_mode,))
        if save_to_file and not os.path.isdir(output_dir):
            raise OSError("Folder '%s' doesn't exist !" % output_dir)  # as CodeCarbon says it
        _say_ignored(others)
        self._opts = dict(project=project_name, experiment=experiment_id,
                          region=country_iso_code, pue=float(pue or 0.0),
                          interval=float(measure_power_secs),
                          attribute="process" if tracking_mode == "process" else None,
                          name="codecarbon-compat")
        self._path = os.path.join(output_dir, output_file) if save_to_file else None
        self._meter = None
        self._tasks = []
        self.final_emissions = None
        self.final_emissions_data = None

    def start(self):
        if self._meter is None:
            self._meter = Meter(**self._opts)
            self._meter.start()

    def start_task(self, task_name=None):
        self.start()
        name = task_name or "task-%d" % (len(self._tasks) + 1)
        window = self._meter.window(name).__enter__()
        self._tasks.append((name, window))
        return name

    def stop_task(self, task_name=None):
        if not self._tasks:
            raise WattprintError(-2, "no task is running")
        i = len(self._tasks) - 1
        if task_name is not None:
            i = [n for n, _ in self._tasks].index(task_name)
        name, window = self._tasks.pop(i)
        window.__exit__(None, None, None)
        return EmissionsData(window.result, name)  # the task's own readings

    def flush(self):
        """CodeCarbon writes a row mid-run; here the ledger already holds a
        checkpoint of the running run, so the row is written at stop()."""
        return None

    def stop(self):
        if self._meter is None:
            return None
        while self._tasks:
            self.stop_task()
        self._meter.stop()
        run = self._meter.result
        self._meter.close()
        self._meter = None
        self.final_emissions_data = EmissionsData(run)
        self.final_emissions = self.final_emissions_data.emissions
        if self._path:
            text, appended = _csv_row(run, self._path)
            with open(self._path, "a" if appended else "w", newline="") as f:
                f.write(text)
        return self.final_emissions

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class OfflineEmissionsTracker(EmissionsTracker):
    """CodeCarbon's offline tracker: the region from country_iso_code, no
    network (wattprint never needs one for its tables)."""

    def __init__(self, *args, country_iso_code=None, cloud_provider=None, cloud_region=None,
                 **kwargs):
        if cloud_provider and cloud_region:
            country_iso_code = "%s:%s" % (cloud_provider, cloud_region)
        if not country_iso_code:
            raise ValueError("OfflineEmissionsTracker needs country_iso_code (e.g. 'FRA')")
        super().__init__(*args, country_iso_code=country_iso_code, **kwargs)


def track_emissions(fn=None, offline=False, **tracker_kwargs):
    """@track_emissions or @track_emissions(project_name=...): the function
    runs inside a tracker; its return value is kept."""
    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            cls = OfflineEmissionsTracker if offline else EmissionsTracker
            tracker = cls(**tracker_kwargs)
            tracker.start()
            try:
                return f(*args, **kwargs)
            finally:
                tracker.stop()
        return wrapper
    return decorate(fn) if callable(fn) else decorate
