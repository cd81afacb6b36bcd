from enum import Enum

from wattprint.compat import BaseOutput  # noqa: F401


class OutputMethod(str, Enum):
    """CodeCarbon's output methods, for output_methods=[...]: CSV, LOGGER
    and PROMETHEUS are honoured; API, LOGFIRE and BOAMPS send nothing here
    (said once)."""
    CSV = "csv"
    API = "api"
    LOGGER = "logger"
    PROMETHEUS = "prometheus"
    LOGFIRE = "logfire"
    BOAMPS = "boamps"
