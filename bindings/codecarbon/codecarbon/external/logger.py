"""The "codecarbon" logger, with a handler on stderr as CodeCarbon sets one."""
import logging

from wattprint.compat_outputs import LoggerOutput  # noqa: F401

logger = logging.getLogger("codecarbon")
if not logger.handlers:
    _h = logging.StreamHandler()
    _h.setFormatter(logging.Formatter("[codecarbon %(levelname)s @ %(asctime)s] %(message)s",
                                      datefmt="%H:%M:%S"))
    logger.addHandler(_h)
    logger.propagate = False


def set_logger_level(level=None):
    """CodeCarbon's levels by name ("debug" ... "critical"), or a number."""
    if level is None:
        level = "info"
    logger.setLevel(level.upper() if isinstance(level, str) else level)
