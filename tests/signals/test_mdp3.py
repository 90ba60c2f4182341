"""CME MDP 3.0 as a simulator stream (nanobook.sim.from_mdp3) and in the signal CLI,
on the bundled capture (CME Globex, A and B feeds, ~290 s, templates 12/32/35/37/42)."""
import dataclasses
import json
from collections import Counter

import numpy as np
import pytest

import nanobook.sim as S
from nanobook import datasets
from nanobook.feeds import BOOK_LEVEL_DTYPE, Mdp3Book, decode_mdp3
from nanobook.signals.dataset import load_stream

SEC = 363272            # the default: most book entries + aggressor trades among positive-priced securities
SPREAD = 133990         # the most active security overall, a calendar spread with negative prices
TICK_E7 = 2_500_000     # 0.25 in the template's 1e-7 price units


@pytest.fixture(scope="module")
def msgs():
    return datasets.load_mdp3(arbitrate=True)


@pytest.fixture(scope="module")
def stream(msgs):
    return S.from_mdp3(msgs, return_info=True)


def _rows(m, lo, hi):
    """Messages lo..hi-1 of m as their own Mdp3Messages (``msg`` renumbered)."""
    def cut(a):
        a = a[(a["msg"] >= lo) & (a["msg"] < hi)].copy()
        a["msg"] -= lo
        return a
    return dataclasses.replace(m, messages=m.messages[lo:hi], roots={t: cut(r) for t, r in m.roots.items()},
                               groups={key: cut(g) for key, g in m.groups.items()})


def _stream_book(md):
    book = ({}, {})
    for r in md[md["kind"] == S.DEPTH].tolist():
        price, qty, side = r[2], r[3], r[7]
        if qty:
            book[side][price] = qty
        else:
            book[side].pop(price, None)
    return book


def test_counts_and_default_security(msgs, stream):
    md, info = stream
    S.validate_stream(md)
    assert info == {"security_id": SEC, "tick": 0.25, "depth": 10, "book_entries": 385, "trades": 80,
                    "trades_no_aggressor": 22, "implied_entries": 182}
    assert Counter(md["kind"].tolist()) == {S.DEPTH: 403, S.TRADE: 80}
    # trades: every TradeSummary entry of the security with an aggressor, sides mapped 1 -> 0, 2 -> 1
    g = msgs.groups[(42, "no_md_entries")]
    g = g[g["security_id"] == SEC]
    aggr = g[np.isin(g["aggressor_side"], (1, 2))]
    tr = md[md["kind"] == S.TRADE]
    assert len(tr) == len(aggr) == 80 and len(g) - len(aggr) == 22
    assert sorted(tr["price"].tolist()) == sorted((aggr["md_entry_px"] // TICK_E7).tolist())
    assert sorted(tr["qty"].tolist()) == sorted(aggr["md_entry_size"].tolist())
    assert sorted(tr["side"].tolist()) == sorted((aggr["aggressor_side"] - 1).tolist())
    # the default is the busiest security whose prices are positive
    book = msgs.groups[(32, "no_md_entries")]
    book = book[np.isin(book["md_entry_type"], (b"0", b"1"))]
    act = Counter(book["security_id"].tolist())
    assert act.most_common(1)[0][0] == SPREAD
    assert (md["price"] > 0).all() and (md["local_ts"] >= md["exch_ts"]).all()


def test_book_equals_mdp3book_after_every_packet_that_touches_it(msgs, stream):
    md, info = stream
    send = msgs.messages["sending_time"].astype(np.int64)
    touched = set()
    for key in ((32, "no_md_entries"), (42, "no_md_entries")):
        g = msgs.groups[key]
        touched |= set(g["msg"][g["security_id"] == SEC].tolist())
    # packet boundaries (a new SendingTime) right after a message of the security
    ends = sorted({int(np.searchsorted(send, send[k], side="right")) for k in touched})
    assert len(ends) > 100
    ref, lo, nonempty = Mdp3Book(), 0, 0
    depth = md[md["kind"] == S.DEPTH]
    for hi in ends:
        ref.apply(_rows(msgs, lo, hi))          # the reference book, fed packet by packet
        lo = hi
        cut = depth[depth["local_ts"] <= send[hi - 1]]
        got = _stream_book(cut)
        bids, asks = ref.levels(SEC) if SEC in ref.books else (np.empty(0, BOOK_LEVEL_DTYPE),) * 2
        want = tuple({int(p) // TICK_E7: int(q) for p, q in zip(lv["price"], lv["qty"])} for lv in (bids, asks))
        assert got == want, hi
        nonempty += bool(want[0]) and bool(want[1])
    assert nonempty > 50


def test_explicit_security_tick_and_depth(msgs, stream):
    md, _ = stream
    same = S.from_mdp3(msgs, SEC, tick=0.25)
    np.testing.assert_array_equal(same, md)
    half = S.from_mdp3(msgs, SEC, tick=0.125)
    np.testing.assert_array_equal(half["price"], 2 * md["price"])
    md1, info = S.from_mdp3(msgs, SEC, depth=1, return_info=True)
    assert info["depth"] == 1
    b = _stream_book(md1)
    assert len(b[0]) <= 1 and len(b[1]) <= 1           # a level pushed beyond the depth is deleted
    other, info = S.from_mdp3(msgs, 411873, return_info=True)
    assert info["security_id"] == 411873 and info["tick"] == 0.25 and len(other) > 0


@pytest.mark.parametrize("kwargs, exc, msg", [
    ({"security_id": SPREAD}, ValueError, f"security_id {SPREAD} quotes non-positive prices"),
    ({"security_id": 1}, ValueError, "security_id 1 has no book entries or trades"),
    ({"security_id": "363272"}, TypeError, "security_id must be an int or None, got '363272'"),
    ({"security_id": True}, TypeError, "security_id must be an int or None, got True"),
    ({"tick": 0.3}, ValueError, "tick 0.3 does not divide the price"),
    ({"tick": 0}, ValueError, "tick must be a finite number > 0, got 0"),
    ({"tick": float("nan")}, ValueError, "tick must be a finite number > 0, got nan"),
    ({"depth": 0}, ValueError, r"depth must be an int in \[1, 100\], got 0"),
    ({"depth": 101}, ValueError, r"depth must be an int in \[1, 100\], got 101"),
    ({"return_info": 1}, TypeError, "return_info must be a bool, got 1"),
])
def test_bad_arguments_raise_naming_them(msgs, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        S.from_mdp3(msgs, **kwargs)


def test_depth_bounds_are_accepted(msgs):
    for d in (1, 100):
        assert len(S.from_mdp3(msgs, depth=d)) > 0


def test_both_feeds_without_arbitration_are_refused():
    raw = datasets.load_mdp3()                   # A and B, every packet twice
    with pytest.raises(ValueError, match="10000 of 10000 packets repeat a MsgSeqNum.*arbitrate=True"):
        S.from_mdp3(raw)


def test_not_messages_is_a_type_error():
    with pytest.raises(TypeError, match="messages must be nanobook.feeds.Mdp3Messages, got str"):
        S.from_mdp3("capture.pcap")


def test_v9_book_and_trade_templates_use_their_exponent():
    # templates 46/48 carry prices in 1e-9 units, 32/42 in 1e-7: both become the same ticks
    data = datasets.path("mdp3_schema")
    from pathlib import Path
    cme = Path(__file__).resolve().parents[1] / "data" / "feeds" / "cme"
    m = decode_mdp3(cme / "v1.9.MdIncrementalRefreshTradeSummary.pcap", data, strict=False)
    md, info = S.from_mdp3(m, return_info=True)
    g = m.groups[(48, "no_md_entries")]
    assert info["trades"] == 1 and md[md["kind"] == S.TRADE]["price"][0] * info["tick"] == pytest.approx(
        float(g["md_entry_px"][0]) * 1e-9)


def test_load_stream_mdp3(tmp_path):
    md, meta = load_stream("mdp3", datasets.path("mdp3_pcap"))
    assert meta["tick"] == 1 and meta["multiplier"] == 0.25 and meta["qty"] == 1
    assert "security_id=363272" in meta["source"] and len(md) == 483
    md2, meta2 = load_stream("mdp3", datasets.path("mdp3_pcap"), symbol=411873)
    assert "security_id=411873" in meta2["source"]
    (tmp_path / "bad.pcap").write_bytes(b"not a capture")
    with pytest.raises(ValueError, match="is not a readable MDP 3.0 capture"):
        load_stream("mdp3", tmp_path / "bad.pcap")


def test_cli_refuses_the_small_capture_with_a_message(tmp_path, capsys):
    pytest.importorskip("torch")
    from nanobook.signals.cli import main
    rc = main(["train", "--format", "mdp3", "--sample", "mdp3_pcap", "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "305 samples are too few for horizons up to 100" in err and "Traceback" not in err
    rc = main(["train", "--format", "mdp3", "--sample", "mdp3_pcap", "--horizons", "5,20", "--embargo", "20",
               "--folds", "2", "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "the shortest training part has 31 samples, less than one SSM chunk (32)" in err
    assert not (tmp_path / "o").exists()


def test_cli_trains_on_the_capture_with_short_horizons_and_warns(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from nanobook.signals.cli import main
    rc = main(["train", "--format", "mdp3", "--sample", "mdp3_pcap", "--horizons", "2,5", "--embargo", "5",
               "--folds", "2", "--epochs", "1", "--d-model", "8", "--d-state", "2", "--out", str(tmp_path),
               "--no-progress"])
    assert rc == 0
    assert "warning: only 214 development samples" in capsys.readouterr().out
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["format"] == "mdp3" and r["n_samples"] == 305 and "security_id=363272 tick=0.25" in r["source"]
    assert r["warning"].startswith("only 214 development samples")
    assert "Warning: only 214" in (tmp_path / "report.html").read_text()


def test_sim_cli_runs_the_capture(tmp_path, capsys):
    from nanobook.sim.cli import main
    cfg = tmp_path / "c.toml"
    cfg.write_text("[venue]\ntick_size = 1\n[strategy]\norder_size = 1\n")
    assert main(["--config", str(cfg), "--data", "mdp3_pcap", "--format", "mdp3", "--no-progress"]) == 0
    assert "SimResult(483 events" in capsys.readouterr().out
    assert main(["--config", str(cfg), "--data", str(cfg), "--format", "mdp3", "--no-progress"]) == 2
    assert "not a pcap or pcapng capture" in capsys.readouterr().err
