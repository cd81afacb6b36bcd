from wattprint.compat_outputs import FileOutput  # noqa: F401
