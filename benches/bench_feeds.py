"""Feed benchmarks: ITCH to arrays, ITCH book building, parse_itch, MDP3 decoding.

Data: the RITCH sample (tests/data/feeds/itch, 12,012 real-format ITCH 5.0
messages, lengths fixed) repeated ``--copies`` times into one file, with the
order references of copy ``i`` shifted by ``i * 10**9`` so every copy books
cleanly; and the CME v6.1 capture (20,546 messages).  The reference package
(nanobook 0.19.2) runs ``parse_itch`` on the same file in a subprocess with
its own interpreter (``--ref-python``, default /work/refvenv/bin/python).
Each figure is the median of ``--repeat`` runs, as wall time and as this
process's CPU time (the machine is shared: CPU time is steadier under other
jobs' load); ratios compare medians of the same kind from the same run.
Figures and ratios are printed, nothing is asserted.

    python benches/bench_feeds.py [--copies 200] [--repeat 7]
"""
from __future__ import annotations

import argparse
import statistics
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "feeds"))

from conftest import fix_lengths  # noqa: E402

from nanobook.feeds import ItchBook, Mdp3Book, SbeSchema, decode_mdp3, read_itch  # noqa: E402
from nanobook.feeds.itch import iter_itch, parse_itch  # noqa: E402

DATA = ROOT / "tests" / "data" / "feeds"

REF_SNIPPET = r"""
import statistics, sys, time, nanobook
wall, cpu = [], []
for _ in range(int(sys.argv[2])):
    ev = None
    t, c = time.perf_counter(), time.process_time()
    ev = nanobook.parse_itch(sys.argv[1])
    wall.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
print(len(ev), statistics.median(wall), statistics.median(cpu))
"""


def big_itch(copies: int) -> bytes:
    base = fix_lengths(gzip.decompress((DATA / "itch" / "ex20101224.TEST_ITCH_50.gz").read_bytes()))
    m = read_itch(base)
    # byte offsets of every message, then of the order reference fields to shift
    offs = np.empty(m.n_messages, np.int64)
    pos, i = 0, 0
    while pos < len(base):
        offs[i] = pos
        pos += 2 + int.from_bytes(base[pos:pos + 2], "big")
        i += 1
    ref_at = []
    for t in "AFECXDUP":
        ref_at.append(offs[m[t]["index"].astype(np.int64)] + 2 + 11)
    ref_at.append(offs[m["U"]["index"].astype(np.int64)] + 2 + 19)
    ref_at = np.sort(np.concatenate(ref_at))
    src = np.frombuffer(base, np.uint8)
    idx = ref_at[:, None] + np.arange(8)
    refs = src[idx].copy().view(">u8").ravel().astype(np.uint64)
    out = np.empty((copies, len(base)), np.uint8)
    for c in range(copies):
        out[c] = src
        shifted = (refs + np.uint64(c) * np.uint64(10**9)).astype(">u8").view(np.uint8).reshape(-1, 8)
        out[c][idx] = shifted
    return out.tobytes(), m.n_messages * copies


def measure(fn, repeat):
    """(median wall seconds, median CPU seconds, last result) over ``repeat`` runs."""
    wall, cpu = [], []
    res = None
    for _ in range(repeat):
        res = None  # free the previous result outside the timed region
        t, c = time.perf_counter(), time.process_time()
        res = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--ref-python", default="/work/refvenv/bin/python")
    a = ap.parse_args()

    data, n = big_itch(a.copies)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.itch")
        Path(path).write_bytes(data)
        print(f"ITCH file: RITCH sample x{a.copies} (order refs shifted per copy): "
              f"{n:,} messages, {len(data) / 1e6:.1f} MB")

        def run(name, fn):
            w, c, res = measure(fn, a.repeat)
            rows.append((name, w, c))
            return res

        m = run("read_itch(bytes) -> structured arrays", lambda: read_itch(data))
        assert m.n_messages == n
        del m
        run("read_itch(path) -> structured arrays", lambda: read_itch(path))
        run("iter_itch(path), 16 MiB chunks", lambda: sum(p.n_messages for p in iter_itch(path)))
        run("ItchBook build (BBO, trade prints)", lambda: ItchBook(depth=1).replay(data))
        run("ItchBook build + depth-5 snapshot per change",
            lambda: ItchBook(depth=5, record_snapshots=True).replay(data))
        n_ev = len(run("parse_itch(path) -> list[(symbol, Event)]", lambda: parse_itch(path)))

        ref = None
        if Path(a.ref_python).exists():
            # without PYTHONPATH, which would shadow the installed 0.19 with this checkout
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            out = subprocess.run([a.ref_python, "-c", REF_SNIPPET, path, str(a.repeat)],
                                 capture_output=True, text=True, check=True, env=env).stdout.split()
            ref = (int(out[0]), float(out[1]), float(out[2]))
            assert ref[0] == n_ev, (ref[0], n_ev)

    print(f"median of {a.repeat} runs; wall and CPU time; ratio = reference parse_itch time / ours")
    print(f"  {'':<46s} {'wall ms':>8s} {'M msg/s':>8s} {'CPU ms':>8s} {'M msg/s':>8s}"
          + ("   x wall  x CPU" if ref else ""))
    for name, w, c in rows:
        s = f"  {name:<46s} {w * 1e3:8.1f} {n / w / 1e6:8.2f} {c * 1e3:8.1f} {n / c / 1e6:8.2f}"
        if ref:
            s += f"   {ref[1] / w:6.2f} {ref[2] / c:6.2f}"
        print(s)
    if ref:
        print(f"  {'reference nanobook 0.19.2 parse_itch(path)':<46s} {ref[1] * 1e3:8.1f} "
              f"{n / ref[1] / 1e6:8.2f} {ref[2] * 1e3:8.1f} {n / ref[2] / 1e6:8.2f}"
              f"   ({ref[0]:,} events)")
    else:
        print("reference interpreter not found: no ratios")

    # MDP3: the v6.1 capture, whole (decode_mdp3 walks pcap, packets, messages, groups)
    schema = SbeSchema(DATA / "cme" / "FixBinary_v9_real-logic.xml.gz")
    cap = gzip.decompress((DATA / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz").read_bytes())
    nm = len(decode_mdp3(cap, schema))
    print(f"MDP3 v6.1 capture ({nm:,} messages, {len(cap) / 1e6:.1f} MB pcap; no reference "
          f"implementation):")
    print(f"  {'(messages decoded per second)':<46s} {'wall ms':>8s} {'M msg/s':>8s} {'CPU ms':>8s} "
          f"{'M msg/s':>8s}")
    for name, fn in (("decode_mdp3 -> arrays (both feeds)", lambda: decode_mdp3(cap, schema)),
                     ("decode_mdp3(arbitrate=True) (A/B merged)",
                      lambda: decode_mdp3(cap, schema, arbitrate=True)),
                     ("arbitrated decode + Mdp3Book(depth=10) build",
                      lambda: Mdp3Book(depth=10).apply(decode_mdp3(cap, schema, arbitrate=True)))):
        w, c, res = measure(fn, a.repeat)
        k = len(res) if hasattr(res, "messages") else len(decode_mdp3(cap, schema, arbitrate=True))
        print(f"  {name:<46s} {w * 1e3:8.1f} {k / w / 1e6:8.2f} {c * 1e3:8.1f} {k / c / 1e6:8.2f}")

if __name__ == "__main__":
    main()
