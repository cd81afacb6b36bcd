from wattprint.compat import BaseOutput, logger


class LogfireOutput(BaseOutput):
    """Logfire: nothing is sent with wattprint (said once)."""

    def __init__(self, *args, **kwargs):
        logger.warning("not sent: wattprint has no Logfire output (the run is in the ledger)")
