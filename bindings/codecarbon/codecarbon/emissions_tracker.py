"""The trackers: wattprint.compat's, under CodeCarbon's module name."""
from wattprint.compat import (EmissionsData, EmissionsTracker,  # noqa: F401
                              OfflineEmissionsTracker, track_emissions)

BaseEmissionsTracker = EmissionsTracker
