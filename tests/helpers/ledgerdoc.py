"""A wattprint ledger's packed run documents read and written from Python, as
src/ledger/pack.c does: one byte naming the preset dictionary
(data/ledger_dict_<n>.json), its high bit set where the document's leading
{"run_id":"ID" was left out (the row's id puts it back), then a raw deflate
stream primed with it."""
import os
import zlib

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")


def dictionary(n=1):
    with open(os.path.join(DATA, "ledger_dict_%d.json" % n), "rb") as f:
        return f.read()


def unpack(blob, run_id=None):
    """The JSON text of a packed document (bytes from the doc column; the
    row's id for one packed without it)."""
    d = zlib.decompressobj(-15, zdict=dictionary(blob[0] & 0x7f))
    text = d.decompress(blob[1:]) + d.flush()
    assert d.eof and not d.unused_data, "a damaged packed document"
    if blob[0] & 0x80:
        assert run_id, "a document packed without its id: give the row's"
        return '{"run_id":"%s"' % run_id + text.decode()
    return text.decode()


def pack(text):
    """text packed as wattprint packs it (dictionary 1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=dictionary(1))
    return bytes([1]) + c.compress(text.encode()) + c.flush()
