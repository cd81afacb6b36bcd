"""A wattprint ledger's packed run documents read and written from Python, as
src/ledger/pack.c does: one byte naming the preset dictionary
(data/ledger_dict_<n>.json), then a raw deflate stream primed with it."""
import os
import zlib

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")


def dictionary(n=1):
    with open(os.path.join(DATA, "ledger_dict_%d.json" % n), "rb") as f:
        return f.read()


def unpack(blob):
    """The JSON text of a packed document (bytes from the doc column)."""
    d = zlib.decompressobj(-15, zdict=dictionary(blob[0]))
    text = d.decompress(blob[1:]) + d.flush()
    assert d.eof and not d.unused_data, "a damaged packed document"
    return text.decode()


def pack(text):
    """text packed as wattprint packs it (dictionary 1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary(1))
    return bytes([1]) + c.compress(text.encode()) + c.flush()
