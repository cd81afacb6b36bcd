"""CodeCarbon's configuration hierarchy: CODECARBON_* variables, then
./.codecarbon.config, then ~/.codecarbon.config."""
from wattprint.compat import get_config  # noqa: F401


def get_hierarchical_config(names=("project_name", "experiment_id", "output_dir",
                                   "country_iso_code", "measure_power_secs", "log_level")):
    return get_config(list(names))
