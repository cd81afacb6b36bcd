import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
# the two distributions in place, as pip would install them, and fakehw
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(ROOT, "bindings", "python"),
                os.path.join(ROOT, "tests", "helpers")]


import logging  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def said():
    """What the "codecarbon" logger says (it does not propagate, as CodeCarbon's)."""
    lines = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    h = Keep()
    log = logging.getLogger("codecarbon")
    log.addHandler(h)
    yield lines
    log.removeHandler(h)
