from wattprint.compat_outputs import GoogleCloudLoggerOutput, LoggerOutput  # noqa: F401
