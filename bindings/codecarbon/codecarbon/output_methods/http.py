from wattprint.compat_outputs import CodeCarbonAPIOutput, HTTPOutput  # noqa: F401
