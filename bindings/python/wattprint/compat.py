"""CodeCarbon's names over wattprint: change the import line, keep the script.

    from wattprint.compat import EmissionsTracker      # was: from codecarbon import ...
    tracker = EmissionsTracker(project_name="bert")
    tracker.start()
    train()
    kg = tracker.stop()                                # kg CO2e, as CodeCarbon's

The `wattprint-codecarbon` distribution (bindings/codecarbon) installs this
engine as the `codecarbon` package itself, for a switch with no line changed.

EmissionsTracker, OfflineEmissionsTracker and track_emissions take every
argument of CodeCarbon 3.x's: each is honoured, or said once (through the
"codecarbon" logger) to have no effect here. Arguments not given are read, as
CodeCarbon reads them, from CODECARBON_<NAME> variables, then ./.codecarbon.config,
then ~/.codecarbon.config (section [codecarbon]). With save_to_file (the
default) each stop (and flush) writes a row to output_dir/emissions.csv exactly
as CodeCarbon 3.x writes it (wattprint export --format codecarbon); a file whose
header is not CodeCarbon's is kept as .bak and a new one started, as CodeCarbon
does."""
import configparser
import copy
import ctypes
import fcntl
import functools
import json
import logging
import os
import threading

from . import Meter, WattprintError, _check, _load

__all__ = ["EmissionsTracker", "OfflineEmissionsTracker", "track_emissions", "EmissionsData",
           "BaseOutput", "get_config"]

logger = logging.getLogger("codecarbon")

# CodeCarbon 3.x's arguments wattprint does not honour, and why (the honoured
# ones are EmissionsTracker's parameters).
_NO_EFFECT = {"api_call_interval": "wattprint sends nothing to the CodeCarbon API",
              "api_endpoint": "wattprint sends nothing to the CodeCarbon API",
              "api_key": "wattprint sends nothing to the CodeCarbon API",
              "electricitymaps_api_token": "set WATTPRINT_ELECTRICITYMAPS_TOKEN instead",
              "co2_signal_api_token": "set WATTPRINT_ELECTRICITYMAPS_TOKEN instead",
              "force_mode_cpu_load": "wattprint reads RAPL where it can, else its own model",
              "rapl_include_dram": "wattprint always counts DRAM apart from the package",
              "rapl_prefer_psys": "wattprint reports psys apart, never added",
              "country_2letter_iso_code": "give country_iso_code (ISO 3166 alpha-3 or -2)",
              "default_cpu_power": "give force_cpu_power, or let wattprint measure"}
_said = set()


def _say_once(key, message):
    if key not in _said:
        _said.add(key)
        logger.warning(message)


def _parse(name, text):
    """A configuration value in the type CodeCarbon gives the argument."""
    low = text.strip().lower()
    if name in ("save_to_file", "save_to_logger", "save_to_prometheus", "save_to_api",
                "save_to_logfire", "allow_multiple_runs"):
        return low in ("1", "true", "yes", "on")
    if name in ("measure_power_secs", "pue", "wue", "force_cpu_power", "force_ram_power",
                "force_carbon_intensity_g_co2e_kwh"):
        return float(text)
    if name == "gpu_ids":
        return [g.strip() for g in text.split(",") if g.strip()]
    return text.strip()


def get_config(names, cwd=None):
    """CodeCarbon's hierarchy for arguments not given: CODECARBON_<NAME>,
    then ./.codecarbon.config, then ~/.codecarbon.config ([codecarbon])."""
    found = {}
    for path in (os.path.expanduser("~/.codecarbon.config"),
                 os.path.join(cwd or os.getcwd(), ".codecarbon.config")):
        cp = configparser.ConfigParser()
        if os.path.isfile(path) and cp.read(path) and cp.has_section("codecarbon"):
            found.update({k: v for k, v in cp.items("codecarbon") if k in names})
    for name in names:
        v = os.environ.get("CODECARBON_" + name.upper())
        if v is not None:
            found[name] = v
    return {k: _parse(k, v) for k, v in found.items()}


class EmissionsData:
    """The figures of a run or a task, with CodeCarbon's attribute names and
    units (kWh, kg, s, W, L)."""

    def __init__(self, run, name=None, run_id=None, project_name=None, experiment_id=None,
                 force_cpu_power=None, force_ram_power=None, wue=0.0):
        # a run JSON, or a window's (which has its grams and facility energy flat)
        e, d = run["energy"], run["duration_s"]
        carbon = run.get("carbon", {})
        grams = carbon["emissions_g"] if "carbon" in run else run["emissions_g"]
        pue = run.get("pue") or (run["facility_energy_j"] / e["total_j"] if e["total_j"] else 1.0)
        cpu_j, ram_j = e["cpu_j"], e["dram_j"]
        if force_cpu_power is not None or force_ram_power is not None:
            # CodeCarbon's meaning: that constant power instead of a measurement
            intensity = carbon.get("intensity_g_per_kwh")
            if intensity is None:
                intensity = grams / (e["total_j"] * pue / 3.6e6) if e["total_j"] else 0.0
            cpu_j = force_cpu_power * d if force_cpu_power is not None else cpu_j
            ram_j = force_ram_power * d if force_ram_power is not None else ram_j
            grams = (cpu_j + ram_j + e["gpu_j"]) * pue / 3.6e6 * intensity
        self.timestamp = run.get("end") or run.get("start")
        self.project_name = project_name or run.get("project")
        self.run_id = run.get("run_id", run_id)
        self.experiment_id = experiment_id or run.get("experiment")
        self.task_name = name
        self.duration = d
        self.emissions = grams / 1000.0
        self.emissions_rate = self.emissions / d if d > 0 else 0.0
        self.cpu_energy = cpu_j * pue / 3.6e6
        self.gpu_energy = e["gpu_j"] * pue / 3.6e6
        self.ram_energy = ram_j * pue / 3.6e6
        self.energy_consumed = self.cpu_energy + self.gpu_energy + self.ram_energy
        self.cpu_power = cpu_j / d if d > 0 else 0.0
        self.gpu_power = e["gpu_j"] / d if d > 0 else 0.0
        self.ram_power = ram_j / d if d > 0 else 0.0
        self.pue = pue
        self.wue = wue or 0.0
        # CodeCarbon: on-site water of the energy consumed
        self.water_consumed = self.energy_consumed * self.wue
        self.country_iso_code = carbon.get("region", "")
        self.country_name = carbon.get("region_name", "")

    @property
    def values(self):
        return dict(vars(self))

    def __repr__(self):
        return "EmissionsData(emissions=%g kg, energy_consumed=%g kWh, duration=%g s)" % (
            self.emissions, self.energy_consumed, self.duration)


class BaseOutput:
    """CodeCarbon's output strategy: out() at flush and stop with the totals
    and the part since the last call, live_out() while running (not called
    here), task_out() with the tasks' figures, exit() at the end."""

    def out(self, total, delta):
        pass

    def live_out(self, total, delta):
        pass

    def task_out(self, data, experiment_name):
        pass

    def exit(self):
        pass


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


_file_lock = threading.Lock()


def _write_row(run, path):
    """Appends the run's row; a file CodeCarbon's writer cannot append to (not
    its header) is kept as PATH.bak and a new one begun, as CodeCarbon does.
    Trackers in several threads or processes may share the file: the header
    is decided and the row written under one lock (a thread lock, and flock
    on the file itself)."""
    with _file_lock, open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            text, appended = _csv_row(run, path)
        except WattprintError as e:
            backup = path + ".bak"
            os.replace(path, backup)
            logger.warning("%s is not a CodeCarbon emissions file (%s): kept as %s, a new one "
                           "begun", path, e, backup)
            text, appended = _csv_row(run, path)
        with open(path, "a" if appended else "w", newline="") as f:
            f.write(text)


def _physical_cpus():
    """Physical packages, as CodeCarbon counts them: the distinct "physical
    id" lines of /proc/cpuinfo (WATTPRINT_PROCFS as wattprint reads it)."""
    path = os.path.join(os.environ.get("WATTPRINT_PROCFS", "/proc"), "cpuinfo")
    try:
        with open(path) as f:
            ids = {l.split(":", 1)[1].strip() for l in f if l.startswith("physical id")}
    except OSError:
        return 0
    return len(ids) or 1


class _Task:
    def __init__(self, name, window):
        self.task_name = name
        self.window = window
        self.is_active = True
        self.emissions_data = None


def _merge(given):
    """The arguments given, completed from CodeCarbon's configuration."""
    missing = [k for k, v in given.items() if v is None]
    found = get_config(missing)
    return {k: (found.get(k, v) if v is None else v) for k, v in given.items()}


class EmissionsTracker:
    """CodeCarbon's tracker: start(), stop() -> kg CO2e (the same figure
    again on a second stop), start_task(name) / stop_task() -> EmissionsData,
    flush(), or a context manager."""

    _DEFAULTS = dict(project_name="codecarbon", measure_power_secs=15, output_dir=".",
                     output_file="emissions.csv", save_to_file=True, save_to_logger=False,
                     save_to_prometheus=False, save_to_api=False, save_to_logfire=False,
                     prometheus_url="http://localhost:9091", tracking_mode="machine",
                     log_level="info", on_csv_write="append", logger_preamble="", pue=1.0,
                     wue=0.0)

    def __init__(self, project_name=None, measure_power_secs=None, output_dir=None,
                 output_file=None, save_to_file=None, save_to_logger=None, logging_logger=None,
                 save_to_prometheus=None, prometheus_url=None, save_to_api=None,
                 save_to_logfire=None, output_handlers=None, output_methods=None, gpu_ids=None,
                 emissions_endpoint=None, experiment_id=None, experiment_name=None,
                 tracking_mode=None, log_level=None, on_csv_write=None, logger_preamble=None,
                 force_cpu_power=None, force_ram_power=None, pue=None, wue=None,
                 force_carbon_intensity_g_co2e_kwh=None, allow_multiple_runs=None,
                 country_iso_code=None, region=None, cloud_provider=None, cloud_region=None,
                 **others):
        a = _merge({k: v for k, v in locals().items() if k not in ("self", "others")})
        for k, v in self._DEFAULTS.items():
            if a.get(k) is None:
                a[k] = v
        self._a = a
        for name in others:
            if name in _NO_EFFECT:
                _say_once(name, "%s= has no effect with wattprint: %s" % (name, _NO_EFFECT[name]))
            else:
                _say_once(name, "%s= is not an argument of CodeCarbon 3.x's EmissionsTracker; "
                          "ignored" % name)
        if a["tracking_mode"] not in ("machine", "process"):
            raise ValueError("tracking_mode must be 'machine' or 'process', not %r"
                             % (a["tracking_mode"],))
        if a["on_csv_write"] not in ("append", "update"):
            raise ValueError("on_csv_write must be 'append' or 'update', not %r"
                             % (a["on_csv_write"],))
        logger.setLevel(str(a["log_level"]).upper())
        self._outputs = self._resolve_outputs(a)
        if self._path and not os.path.isdir(a["output_dir"]):
            raise OSError("Folder '%s' doesn't exist !" % a["output_dir"])  # CodeCarbon's words
        region = a["country_iso_code"]
        if a["cloud_provider"] and a["cloud_region"]:
            region = "%s:%s" % (a["cloud_provider"], a["cloud_region"])
        self._opts = dict(project=a["project_name"],
                          experiment=a["experiment_name"] or a["experiment_id"],
                          region=region, pue=float(a["pue"] or 0.0),
                          intensity=float(a["force_carbon_intensity_g_co2e_kwh"] or 0.0),
                          interval=float(a["measure_power_secs"]),
                          gpus=",".join(str(g) for g in a["gpu_ids"]) if a["gpu_ids"] else None,
                          attribute="process" if a["tracking_mode"] == "process" else None,
                          tags={"codecarbon_experiment_id": a["experiment_id"]}
                          if a["experiment_id"] else None,
                          name="codecarbon")
        self._meter = None
        self._tasks = {}
        self._last = None
        self.final_emissions = None
        self.final_emissions_data = None

    def _resolve_outputs(self, a):
        methods = {str(getattr(m, "value", m)).lower() for m in (a["output_methods"] or [])}
        to_file = a["save_to_file"] or "csv" in methods
        self._path = os.path.join(a["output_dir"], a["output_file"]) if to_file else None
        outs = list(a["output_handlers"] or [])
        if a["save_to_logger"] or "logger" in methods:
            from .compat_outputs import LoggerOutput
            outs.append(LoggerOutput(a["logging_logger"] or logger))
        if a["save_to_prometheus"] or "prometheus" in methods:
            from .compat_outputs import PrometheusOutput
            outs.append(PrometheusOutput(a["prometheus_url"]))
        if a["emissions_endpoint"]:
            from .compat_outputs import HTTPOutput
            outs.append(HTTPOutput(a["emissions_endpoint"]))
        for what in ("api", "logfire", "boamps"):
            if what in methods or a.get("save_to_" + what):
                _say_once(what, "the %s output has no effect with wattprint: nothing is sent "
                          "(the run is in the ledger and emissions.csv)" % what)
        return outs

    def _data(self, run, name=None):
        return EmissionsData(run, name, project_name=self._a["project_name"],
                             experiment_id=self._a["experiment_id"],
                             force_cpu_power=self._a["force_cpu_power"],
                             force_ram_power=self._a["force_ram_power"], wue=self._a["wue"])

    def _emit(self, run):
        """The row and the handlers' out(total, delta), at flush and stop."""
        total = self._data(run)
        if self._a["wue"]:  # the row's water_consumed, as CodeCarbon computes it
            run.setdefault("carbon", {}).update(water_l=total.water_consumed,
                                                wue_l_per_kwh=float(self._a["wue"]))
        delta = copy.copy(total)
        if self._last is not None:
            for k in ("emissions", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
                      "water_consumed", "duration"):
                setattr(delta, k, getattr(total, k) - getattr(self._last, k))
        self._last = total
        logger.info("%sEnergy consumed: %.6g kWh (CPU %.6g, RAM %.6g, GPU %.6g) in %.4g s; "
                    "%.6g kg CO2e%s", self._a["logger_preamble"], total.energy_consumed,
                    total.cpu_energy, total.ram_energy, total.gpu_energy, total.duration,
                    total.emissions, " to %s" % self._path if self._path else "")
        if self._path:
            _write_row(run, self._path)
        for o in self._outputs:
            o.out(total, delta)
        return total

    def get_detected_hardware(self):
        """What the tracker measures: CPU, RAM and GPUs, as CodeCarbon names them."""
        run = self._meter.json() if self._meter else None
        if run is None:
            m = Meter(**self._opts)
            try:
                run = m.json()
            finally:
                m.close()
        machine = run.get("machine") or {}  # filled when a run starts
        if not machine.get("cpu_count"):
            machine = dict(machine, cpu_count=os.cpu_count() or 0,
                           ram_total_gib=os.sysconf("SC_PAGE_SIZE") *
                           os.sysconf("SC_PHYS_PAGES") / 2**30)
        # a GPU shared by tracking_mode="process" has its whole beside the share
        # (not counted): one GPU
        gpus = [c for c in run["channels"] if c["component"] == "gpu" and c.get("counted", True)]
        return {"ram_total_size": machine.get("ram_total_gib", 0.0),
                "cpu_count": machine.get("cpu_count", 0),
                "cpu_physical_count": _physical_cpus() or machine.get("cpu_count", 0),
                "cpu_model": machine.get("cpu_model", ""),
                "gpu_count": len(gpus),
                "gpu_model": ", ".join(sorted({c.get("name", c["device"]) for c in gpus})),
                "gpu_ids": [c["device"] for c in gpus]}

    def start(self):
        if self._meter is None:
            self._meter = Meter(**self._opts)
            self._meter.start()
            run = self._meter.json()
            logger.info("%s[setup] tracking %s with wattprint: %s", self._a["logger_preamble"],
                        self._a["project_name"], ", ".join(
                            "%s %s (%s)" % (c["component"], c["device"], c["method"])
                            for c in run["channels"] if c.get("counted", True)))

    def start_task(self, task_name=None):
        self.start()
        name = task_name or "task-%d" % (len(self._tasks) + 1)
        if name in self._tasks and self._tasks[name].is_active:
            logger.warning("task %s is already running", name)
            return name
        self._tasks[name] = _Task(name, self._meter.window(name).__enter__())
        return name

    def stop_task(self, task_name=None):
        active = [n for n, t in self._tasks.items() if t.is_active]
        if not active or (task_name is not None and task_name not in active):
            logger.warning("no task %sis running: nothing to stop",
                           "named %s " % task_name if task_name else "")
            return None
        task = self._tasks[task_name if task_name is not None else active[-1]]
        task.window.__exit__(None, None, None)
        task.is_active = False
        task.emissions_data = self._data(task.window.result, task.task_name)
        return task.emissions_data

    def flush(self):
        """A row of the totals so far (and the handlers' out()); the kg CO2e."""
        if self._meter is None:
            logger.warning("flush() before start(): nothing measured yet")
            return None
        return self._emit(self._meter.json()).emissions

    def stop(self):
        if self._meter is None:
            if self.final_emissions is not None:
                logger.warning("the tracker was already stopped")
            return self.final_emissions
        for name in [n for n, t in self._tasks.items() if t.is_active]:
            self.stop_task(name)
        run = self._meter.stop()
        self._meter.close()
        self._meter = None
        self.final_emissions_data = self._emit(run)
        self.final_emissions = self.final_emissions_data.emissions
        tasks = [t.emissions_data for t in self._tasks.values() if t.emissions_data]
        for o in self._outputs:
            if tasks:
                o.task_out(tasks, self._a["experiment_id"] or self._a["project_name"])
            o.exit()
        return self.final_emissions

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class OfflineEmissionsTracker(EmissionsTracker):
    """CodeCarbon's offline tracker: the region from country_iso_code (or a
    cloud provider and region), no network (wattprint never needs one)."""

    def __init__(self, *args, country_iso_code=None, cloud_provider=None, cloud_region=None,
                 **kwargs):
        if not country_iso_code and not (cloud_provider and cloud_region):
            country_iso_code = get_config(["country_iso_code"]).get("country_iso_code")
        if not country_iso_code and not (cloud_provider and cloud_region):
            raise ValueError("OfflineEmissionsTracker needs country_iso_code (e.g. 'FRA')")
        super().__init__(*args, country_iso_code=country_iso_code, cloud_provider=cloud_provider,
                         cloud_region=cloud_region, **kwargs)


def track_emissions(fn=None, offline=False, **tracker_kwargs):
    """@track_emissions or @track_emissions(project_name=...): the function
    runs inside a tracker; its return value is kept (a failing output never
    replaces it)."""
    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            cls = OfflineEmissionsTracker if offline else EmissionsTracker
            tracker = cls(**tracker_kwargs)
            tracker.start()
            try:
                return f(*args, **kwargs)
            finally:
                try:
                    tracker.stop()
                except Exception as e:  # the function's result is the caller's
                    logger.error("the emissions could not be written: %s", e)
        return wrapper
    return decorate(fn) if callable(fn) else decorate
