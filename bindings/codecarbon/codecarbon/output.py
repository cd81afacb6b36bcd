"""CodeCarbon's output methods (codecarbon.output), over wattprint."""
from codecarbon.output_methods.base_output import BaseOutput, OutputMethod  # noqa: F401
from codecarbon.output_methods.emissions_data import (EmissionsData,  # noqa: F401
                                                      TaskEmissionsData)
from codecarbon.output_methods.file import FileOutput  # noqa: F401
from codecarbon.output_methods.http import CodeCarbonAPIOutput, HTTPOutput  # noqa: F401
from codecarbon.output_methods.logger import GoogleCloudLoggerOutput, LoggerOutput  # noqa: F401
from codecarbon.output_methods.metrics.logfire import LogfireOutput  # noqa: F401
from codecarbon.output_methods.metrics.prometheus import PrometheusOutput  # noqa: F401
