"""Feed benchmarks: ITCH to arrays, ITCH book building, parse_itch, MDP3 decoding.

Data: the RITCH sample (tests/data/feeds/itch, 12,012 real-format ITCH 5.0
messages, lengths fixed) repeated ``--copies`` times into one file, with the
order references of copy ``i`` shifted by ``i * 10**9`` so every copy books
cleanly; and the CME v6.1 capture (20,546 messages).  The reference package
(nanobook 0.19.2) runs ``parse_itch`` on the same file in a subprocess with
its own interpreter (``--ref-python``, default /work/refvenv/bin/python).
Best of ``--repeat`` runs; figures and ratios are printed, nothing is asserted.

    python benches/bench_feeds.py [--copies 200] [--repeat 3]
"""
from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "feeds"))

from conftest import fix_lengths  # noqa: E402

from nanobook.feeds import ItchBook, decode_mdp3, read_itch, SbeSchema  # noqa: E402
from nanobook.feeds.itch import iter_itch, parse_itch  # noqa: E402

DATA = ROOT / "tests" / "data" / "feeds"

REF_SNIPPET = r"""
import sys, time, nanobook
best = 1e9
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); ev = nanobook.parse_itch(sys.argv[1]); best = min(best, time.perf_counter() - t)
print(len(ev), best)
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


def best_of(fn, repeat):
    best = float("inf")
    res = None
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t)
    return best, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ref-python", default="/work/refvenv/bin/python")
    a = ap.parse_args()

    data, n = big_itch(a.copies)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.itch")
        Path(path).write_bytes(data)
        print(f"ITCH file: RITCH sample x{a.copies} (order refs shifted per copy): "
              f"{n:,} messages, {len(data) / 1e6:.1f} MB")

        t_arr, m = best_of(lambda: read_itch(data), a.repeat)
        assert m.n_messages == n
        t_stream, _ = best_of(lambda: sum(p.n_messages for p in iter_itch(path, chunk_size=1 << 24)),
                              a.repeat)
        t_book, bk = best_of(lambda: ItchBook(depth=1).replay(data), a.repeat)
        t_snap, _ = best_of(lambda: ItchBook(depth=5, record_snapshots=True).replay(data), a.repeat)
        t_ours_pi, ev = best_of(lambda: parse_itch(path), 1)

        ref = None
        if Path(a.ref_python).exists():
            out = subprocess.run([a.ref_python, "-c", REF_SNIPPET, path, str(a.repeat)],
                                 capture_output=True, text=True, check=True).stdout.split()
            ref = (int(out[0]), float(out[1]))
            assert ref[0] == len(ev), (ref[0], len(ev))

    def line(name, secs, count=n):
        rate = count / secs
        s = f"  {name:<42s} {secs * 1e3:9.1f} ms  {rate / 1e6:8.2f} M msg/s"
        if ref:
            s += f"   x{ref[1] / secs:6.2f} vs reference parse_itch"
        print(s)

    print("ours (best of %d):" % a.repeat)
    line("read_itch -> structured arrays", t_arr)
    line("iter_itch (16 MiB chunks, from disk)", t_stream)
    line("ItchBook build (BBO, trade prints)", t_book)
    line("ItchBook build + depth-5 snapshot per change", t_snap)
    line("parse_itch -> list[(symbol, Event)]", t_ours_pi)
    if ref:
        print(f"reference nanobook 0.19.2 parse_itch: {ref[1] * 1e3:9.1f} ms  "
              f"{n / ref[1] / 1e6:8.2f} M msg/s  ({ref[0]:,} events)")
    else:
        print("reference interpreter not found: no ratios")

    # MDP3
    schema = SbeSchema(DATA / "cme" / "FixBinary_v9_real-logic.xml.gz")
    cap = gzip.decompress((DATA / "cme" / "v1.6.Cme.Mdp3.Sbe.v6.1.pcap.gz").read_bytes())
    t_mdp, mm = best_of(lambda: decode_mdp3(cap, schema), a.repeat)
    print(f"MDP3 v6.1 capture: {len(mm):,} messages decode to arrays in {t_mdp * 1e3:.1f} ms "
          f"= {len(mm) / t_mdp / 1e6:.3f} M msg/s (no reference implementation)")


if __name__ == "__main__":
    main()
