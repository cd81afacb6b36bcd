"""wattprint: measure the energy and carbon of Python code.

A thin ctypes binding over libwattprint (no compiled module)::

    import wattprint

    with wattprint.Meter(region="FR", project="demo") as m:
        for epoch in range(3):
            with m.window(f"epoch-{epoch}") as w:
                train_one_epoch()
                m.add_work(tokens_seen, unit="tokens")
            print(w.result["energy"]["total_j"])
    print(m.result["carbon"]["emissions_g"])

    @wattprint.track(project="demo")
    def train(): ...

The library is found through $WATTPRINT_LIBRARY, then beside this package,
then in the source tree's build directory, then on the system. Its warnings
(a counter that stopped reading, a ledger that cannot record a run) go to
logging.getLogger("wattprint").
"""
import atexit
import ctypes
import ctypes.util
import functools
import json
import logging
import os

__all__ = ["Meter", "Window", "WattprintError", "track", "library_path"]

_ERRORS = {-1: "EINVAL", -2: "ESTATE", -3: "ENOENT", -4: "ENOMEM", -5: "ESENSOR"}


class WattprintError(Exception):
    """A libwattprint call failed; .code is its WATTPRINT_E* code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.name = _ERRORS.get(code, "E%d" % code)


class _Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),  # the ABI's version: this struct's size
        ("interval_s", ctypes.c_double),
        ("region", ctypes.c_char_p),
        ("intensity_g_per_kwh", ctypes.c_double),
        ("pue", ctypes.c_double),
        ("provider", ctypes.c_char_p),
        ("ledger", ctypes.c_char_p),
        ("project", ctypes.c_char_p),
        ("experiment", ctypes.c_char_p),
        ("job", ctypes.c_char_p),
        ("tags", ctypes.POINTER(ctypes.c_char_p)),
        ("name", ctypes.c_char_p),
        ("gpus", ctypes.c_char_p),
        ("require_measured", ctypes.c_int),
        ("sensors", ctypes.c_char_p),
        ("attribute_process", ctypes.c_int),
    ]


class _Result(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t)] + [(name, ctypes.c_double) for name in (
        "duration_s", "energy_j", "cpu_j", "dram_j", "gpu_j", "psys_j", "facility_energy_j",
        "emissions_g", "work_done")] + [("estimated", ctypes.c_int)]

    def __init__(self):
        super().__init__()
        self.struct_size = ctypes.sizeof(_Result)


_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _to_logging(level, message, user):
    """The library's warnings (from any of its threads) into Python's logging."""
    logging.getLogger("wattprint").log(level, "%s", message.decode(errors="replace"))


_log_callback = _LOG_FN(_to_logging)  # kept alive for as long as the library may call it


def _candidates():
    env = os.environ.get("WATTPRINT_LIBRARY")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libwattprint.so")
    yield os.path.join(here, "libwattprint.so.1")
    root = os.path.abspath(os.path.join(here, "..", "..", ".."))
    yield os.path.join(root, "build", "libwattprint.so")
    found = ctypes.util.find_library("wattprint")
    if found:
        yield found


def library_path():
    """The libwattprint this package would load. $WATTPRINT_LIBRARY is taken as
    given (a wrong one fails loudly rather than falling back)."""
    if os.environ.get("WATTPRINT_LIBRARY"):
        return os.environ["WATTPRINT_LIBRARY"]
    for path in _candidates():
        if os.path.sep not in path or os.path.exists(path):
            return path
    raise OSError("libwattprint not found: build it (make) or set WATTPRINT_LIBRARY")


_lib = None


def _load():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(library_path())
    P = ctypes.c_void_p
    for name, args, res in (
            ("wattprint_open", [ctypes.POINTER(_Options), ctypes.POINTER(P)], ctypes.c_int),
            ("wattprint_start", [P], ctypes.c_int),
            ("wattprint_stop", [P], ctypes.c_int),
            ("wattprint_window_begin", [P, ctypes.c_char_p], ctypes.c_int),
            ("wattprint_window_end", [P, ctypes.c_char_p, ctypes.POINTER(_Result)],
             ctypes.c_int),
            ("wattprint_window_json", [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)],
             ctypes.c_int),
            ("wattprint_add_work", [P, ctypes.c_double, ctypes.c_char_p], ctypes.c_int),
            ("wattprint_read", [P, ctypes.POINTER(_Result)], ctypes.c_int),
            ("wattprint_json", [P, ctypes.POINTER(ctypes.c_void_p)], ctypes.c_int),
            ("wattprint_close", [P], None),
            ("wattprint_free", [ctypes.c_void_p], None),
            ("wattprint_last_error", [], ctypes.c_char_p),
            ("wattprint_set_log", [_LOG_FN, ctypes.c_void_p], None),
            ("wattprint_version", [], ctypes.c_char_p)):
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    lib.wattprint_set_log(_log_callback, None)
    # no call into Python once the interpreter is going away
    atexit.register(lambda: lib.wattprint_set_log(_LOG_FN(), None))
    _lib = lib
    return lib


def _check(rc):
    if rc != 0:
        raise WattprintError(rc, _load().wattprint_last_error().decode())


def _take_string(fetch):
    """Calls fetch(ptr) for a char * the library allocates, and frees it."""
    lib = _load()
    ptr = ctypes.c_void_p()
    _check(fetch(ctypes.byref(ptr)))
    try:
        return ctypes.string_at(ptr.value).decode()
    finally:
        lib.wattprint_free(ptr)


def _b(s):
    return None if s is None else str(s).encode()


class Window:
    """A named window of a running Meter; .result is its result dict once closed."""

    def __init__(self, meter, name):
        self.meter = meter
        self.name = name
        self.result = None

    def __enter__(self):
        self.meter._call("wattprint_window_begin", _b(self.name))
        return self

    def __exit__(self, *exc):
        res = _Result()
        self.meter._call("wattprint_window_end", _b(self.name), ctypes.byref(res))
        self.result = json.loads(_take_string(
            lambda p: _load().wattprint_window_json(self.meter._h, _b(self.name), p)))
        return False


class Meter:
    """Measures the energy and carbon of the code inside it.

    Keyword arguments mirror `wattprint run`: region, intensity, pue, provider,
    ledger (a path; "" records nothing), project, experiment, job, tags (a
    dict), name, gpus, interval, require_measured, sensors (names of the
    backends to use), attribute ("process": count only this process's share
    of the CPU, DRAM and GPUs, by its CPU time, resident memory and GPU
    utilisation; the whole machine's figures stay beside it, as channels
    named "...-all"; None: the whole machine). Used as a context manager,
    or with start() and stop(). .result is the run JSON as a dict."""

    def __init__(self, region=None, intensity=0.0, pue=0.0, provider=None, ledger=None,
                 project=None, experiment=None, job=None, tags=None, name=None, gpus=None,
                 interval=0.0, require_measured=False, sensors=None, attribute=None):
        if attribute not in (None, "none", "process"):
            raise ValueError("attribute must be 'process' or None, not %r" % (attribute,))
        lib = _load()
        tag_list = ["%s=%s" % (k, v) for k, v in (tags or {}).items()]
        self._tag_array = (ctypes.c_char_p * (len(tag_list) + 1))(
            *[t.encode() for t in tag_list], None)
        opts = _Options(ctypes.sizeof(_Options), interval, _b(region), intensity, pue,
                        _b(provider), _b(ledger),
                        _b(project), _b(experiment), _b(job),
                        ctypes.cast(self._tag_array, ctypes.POINTER(ctypes.c_char_p)),
                        _b(name or "python"), _b(gpus), int(bool(require_measured)),
                        _b(",".join(sensors) if isinstance(sensors, (list, tuple)) else sensors),
                        int(attribute == "process"))
        self._h = ctypes.c_void_p()
        _check(lib.wattprint_open(ctypes.byref(opts), ctypes.byref(self._h)))
        self.result = None

    def _call(self, fn, *args):
        if self._h is None:
            raise WattprintError(-2, "the meter is closed")
        _check(getattr(_load(), fn)(self._h, *args))

    def start(self):
        self._call("wattprint_start")
        return self

    def stop(self):
        """Stops measuring, records the run, and returns the result dict."""
        self._call("wattprint_stop")
        self.result = json.loads(_take_string(lambda p: _load().wattprint_json(self._h, p)))
        return self.result

    def json(self):
        """The run as it stands (while running: so far), as a dict."""
        if self._h is None:
            raise WattprintError(-2, "the meter is closed")
        return json.loads(_take_string(lambda p: _load().wattprint_json(self._h, p)))

    def window(self, name):
        """A context manager measuring one part of the run (windows may nest)."""
        return Window(self, name)

    def add_work(self, n, unit=None):
        """Counts n units of work (tokens, samples, steps)."""
        self._call("wattprint_add_work", float(n), _b(unit))

    def read(self):
        """The totals so far, as a dict of joules and grams."""
        res = _Result()
        self._call("wattprint_read", ctypes.byref(res))
        return {name: getattr(res, name) for name, _ in _Result._fields_[1:]}

    def close(self):
        if self._h is not None:
            _load().wattprint_close(self._h)
            self._h = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def track(_fn=None, **meter_kwargs):
    """Decorator: measures each call of the function as a run. The last
    result is kept on the wrapper as .last_result."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            kw = dict(meter_kwargs)
            kw.setdefault("name", fn.__qualname__)
            with Meter(**kw) as m:
                value = fn(*args, **kwargs)
            wrapper.last_result = m.result
            return value
        wrapper.last_result = None
        return wrapper
    return decorate(_fn) if _fn is not None else decorate


def version():
    return _load().wattprint_version().decode()
