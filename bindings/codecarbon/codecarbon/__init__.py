"""CodeCarbon 3.x's public API, measured by wattprint (libwattprint): the
trackers, the decorator and the output methods under CodeCarbon's module
names. docs/codecarbon.md says what differs and why."""
from ._version import __version__  # noqa: F401
from .emissions_tracker import EmissionsTracker, OfflineEmissionsTracker, track_emissions
from .external import logger as _logger  # noqa: F401 (CodeCarbon's handler on its logger)
from .output_methods.base_output import OutputMethod

__all__ = ["EmissionsTracker", "OfflineEmissionsTracker", "OutputMethod", "track_emissions"]
__app_name__ = "codecarbon"
