from wattprint.compat_outputs import PrometheusOutput  # noqa: F401
