"""Event files under damage: ``nanobook.load_events`` on any mutation of a real
file (written by ``save_events`` from a real session) returns a validated
array or raises the documented ``ValueError`` naming the file, never another
exception (the issue saw ``tokenize.TokenError`` from 45 of 3,000 mutated
``.npy`` headers)."""
import os
import random

import numpy as np
import pytest

import nanobook
from nanobook import dtypes as d

from test_bad_input import scripted

MUTATIONS = int(os.environ.get("NANOBOOK_FUZZ_MUTATIONS", "1500"))


def mutate(r, data, header_end):
    """One random damage: flip / replace / insert / delete bytes (mostly in
    the header, where the parser is), truncate, or duplicate a slice."""
    b = bytearray(data)
    op = r.randrange(6)
    hot = header_end if r.random() < 0.8 else len(b)
    i = r.randrange(max(1, hot))
    if op == 0:
        b[i] ^= 1 << r.randrange(8)
    elif op == 1:
        b[i] = r.choice(b"(){}[]'\",:;#\\ \n\t0123456789-+eE.xjLuU<>|" + bytes([0, 0x80, 0xff]))
    elif op == 2:
        b[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 4)))
    elif op == 3:
        del b[i:i + r.randint(1, 4)]
    elif op == 4:
        del b[r.randrange(len(b)):]
    else:
        j = r.randrange(len(b))
        b[j:j] = b[i:i + r.randint(1, 64)]
    return bytes(b)


def check_load(path, data):
    path.write_bytes(data)
    try:
        arr = nanobook.load_events(path)
    except ValueError as exc:
        assert str(path) in str(exc), str(exc)
        return "error"
    assert arr.dtype == d.EVENT_DTYPE and arr.ndim == 1
    nanobook.Exchange.replay(arr)._check()
    return "ok"


@pytest.mark.parametrize("suffix", [".npy", ".jsonl"])
def test_mutated_event_files_raise_only_the_documented_valueerror(tmp_path, suffix):
    src = tmp_path / f"real{suffix}"
    scripted().save_events(src)
    data = src.read_bytes()
    header_end = data.index(b"\n") + 1 if suffix == ".npy" else len(data)
    r = random.Random(11)
    outcomes = {"ok": 0, "error": 0}
    path = tmp_path / f"mutated{suffix}"
    for k in range(MUTATIONS):
        m = mutate(r, data, header_end)
        outcomes[check_load(path, m)] += 1
    assert outcomes["error"] > MUTATIONS // 4    # the damage was real


def npy(header, payload=b"\0" * 64):
    """A version 1.0 ``.npy`` file with this header text (padded as numpy pads)."""
    text = header.encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload


HOSTILE_NPY_HEADERS = [
    # (header text, what it exercises)
    "{'descr': [('kind', '|u1')], 'fortran_order': False, 'shape': (1,), }",  # wrong dtype
    "{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,), }",        # not a literal
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ",              # tokenize error
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': ('a',), }",
    "{'descr': 5, 'fortran_order': False, 'shape': (1,), }",
    "['not', 'a', 'dict']",
    "{'descr': '''",
]


@pytest.mark.parametrize("header", HOSTILE_NPY_HEADERS)
def test_hostile_npy_headers(tmp_path, header):
    path = tmp_path / "h.npy"
    path.write_bytes(npy(header))
    with pytest.raises(ValueError, match=r"h\.npy: not a nanobook event file"):
        nanobook.load_events(path)


def test_npy_whose_header_claims_more_or_fewer_events_than_it_holds(tmp_path):
    """A header that says 10**15 events allocates nothing: the size is checked
    against the file first."""
    ops = scripted().events_array()
    good = tmp_path / "g.npy"
    np.save(good, ops)
    payload = ops.tobytes()
    n = len(ops)
    descr = np.lib.format.dtype_to_descr(d.EVENT_DTYPE)
    for claimed in (10**15, n + 1, n - 1, 0):
        path = tmp_path / "b.npy"
        path.write_bytes(npy(f"{{'descr': {descr!r}, 'fortran_order': False, "
                             f"'shape': ({claimed},), }}", payload))
        with pytest.raises(ValueError, match=rf"b\.npy: not a nanobook event file: the header "
                                             rf"says {claimed} events"):
            nanobook.load_events(path)
    # exactly as many as it holds: loads
    path.write_bytes(npy(f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': ({n},), }}",
                         payload))
    assert (nanobook.load_events(path) == ops).all()
    assert (nanobook.load_events(good) == ops).all()


@pytest.mark.parametrize("line,msg", [
    ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
    ('{"SubmitTrailingStopMarket": {"side": "Buy", "stop_price": 1, "quantity": 1, '
     '"trail_method": {"Percentage": 1' + "0" * 400 + '}}}', "invalid event"),
    ('{"Cancel": {"order_id": 1}}'.encode("utf-16").decode("latin1"), "not UTF-8 text"),
])
def test_hostile_jsonl_lines(tmp_path, line, msg):
    path = tmp_path / "h.jsonl"
    good = scripted().events()[0].__getstate__()
    path.write_bytes((good + "\n").encode() + line.encode("latin1" if "not UTF" in msg else "utf-8")
                     + b"\n")
    with pytest.raises(ValueError) as info:
        nanobook.load_events(path)
    assert str(info.value).startswith(f"{path}:2: ") and msg in str(info.value)


def test_event_from_json_too_deep_is_a_valueerror():
    with pytest.raises(ValueError, match="event JSON: nested too deeply"):
        nanobook.Event.from_json("[" * 100_000 + "]" * 100_000)
