import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))                     # the package, in place
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tests", "helpers"))  # fakehw


import pytest


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server the tests start (tests/helpers/pgtest.py)."""
    import pgtest
    d = pgtest.start()
    yield d
    pgtest.stop(d)
