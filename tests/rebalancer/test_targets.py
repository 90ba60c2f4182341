"""Target files: JSON and CSV, and every malformed case."""
import math

import pytest
from hypothesis import given, strategies as st

from nanobook_rebalancer.errors import TargetError
from nanobook_rebalancer.targets import load_targets, parse_targets_csv, parse_targets_json


def test_json_and_csv_agree(tmp_path):
    j = tmp_path / "t.json"
    j.write_text('{"targets": [{"symbol": "AAPL", "weight": 0.4}, {"symbol": "SPY", "weight": -0.1}],'
                 ' "metadata": {"id": "x"}, "timestamp": "2026-01-01T00:00:00Z"}')
    c = tmp_path / "t.csv"
    c.write_text("# comment\nsymbol,weight\nAAPL,0.4\n\nSPY,-0.1\n")
    tj, tc = load_targets(j), load_targets(c)
    assert dict(tj.weights) == dict(tc.weights) == {"AAPL": 0.4, "SPY": -0.1}
    assert tj.metadata == {"id": "x"} and len(tj.digest) == 64
    assert math.isclose(tj.gross, 0.5)


@pytest.mark.parametrize("text, needle", [
    ("", "invalid JSON"),
    ("[1]", "top level must be an object"),
    ('{"targets": []}', "no targets"),
    ('{"target": []}', "unknown key(s) ['target']"),
    ('{"targets": {}}', "'targets' must be a list"),
    ('{"targets": [1]}', "targets[0] must be an object"),
    ('{"targets": [{"symbol": "A"}]}', "missing key 'weight'"),
    ('{"targets": [{"symbol": "A", "weight": 0.1, "x": 1}]}', "unknown key(s) ['x']"),
    ('{"targets": [{"symbol": "A", "weight": NaN}]}', "NaN is not a valid weight"),
    ('{"targets": [{"symbol": "A", "weight": Infinity}]}', "Infinity"),
    ('{"targets": [{"symbol": "A", "weight": "0.1"}]}', "weight must be a number"),
    ('{"targets": [{"symbol": "A", "weight": true}]}', "weight must be a number"),
    ('{"targets": [{"symbol": "A", "weight": 1.5}]}', "weight must be in [-1, 1]"),
    ('{"targets": [{"symbol": "aapl", "weight": 0.1}]}', "upper-case"),
    ('{"targets": [{"symbol": "TOOLONGSYM", "weight": 0.1}]}', "1-8"),
    ('{"targets": [{"symbol": 5, "weight": 0.1}]}', "symbol must be a string"),
    ('{"targets": [{"symbol": "A", "weight": 0.1}, {"symbol": "A", "weight": 0.2}]}', "duplicate symbol 'A'"),
    ('{"targets": [{"symbol": "A", "weight": 0.6}, {"symbol": "B", "weight": -0.6}]}', "gross weight 1.2 exceeds"),
    ('{"targets": [{"symbol": "A", "weight": 0.1}], "metadata": {"id": 3}}', "'metadata' must be"),
])
def test_bad_json(text, needle):
    with pytest.raises(TargetError) as ei:
        parse_targets_json(text, source="t.json")
    assert needle in str(ei.value)


@pytest.mark.parametrize("text, needle", [
    ("", "empty CSV"),
    ("sym,w\nA,0.1\n", "header must be 'symbol,weight'"),
    ("symbol,weight\n", "no targets"),
    ("symbol,weight\nA\n", "line 2: expected 2 fields"),
    ("symbol,weight\nA,0.1,3\n", "expected 2 fields"),
    ("symbol,weight\nA,abc\n", "line 2: weight must be a number (a plain decimal such as 0.25), got 'abc'"),
    ("symbol,weight\nA,nan\n", "weight must be finite"),
    ("symbol,weight\nA,inf\n", "weight must be finite"),
    ("symbol,weight\nA,0.1\nA,0.2\n", "line 3: duplicate symbol"),
    ("symbol,weight\nA,0.7\nB,0.7\n", "exceeds the configured limit"),
])
def test_bad_csv(text, needle):
    with pytest.raises(TargetError) as ei:
        parse_targets_csv(text, source="t.csv")
    assert needle in str(ei.value)


def test_file_level_errors(tmp_path):
    with pytest.raises(TargetError, match="cannot read"):
        load_targets(tmp_path / "missing.json")
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(TargetError, match="cannot tell the format"):
        load_targets(tmp_path / "t.txt")
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TargetError, match="not UTF-8"):
        load_targets(tmp_path / "b.json")


def test_max_gross_is_configurable():
    text = '{"targets": [{"symbol": "A", "weight": 0.8}, {"symbol": "B", "weight": -0.5}]}'
    assert parse_targets_json(text, max_gross=1.5).gross == pytest.approx(1.3)
    with pytest.raises(TargetError, match="plan.max_gross_weight = 1.2"):
        parse_targets_json(text, max_gross=1.2)


@given(st.dictionaries(st.from_regex(r"[A-Z]{1,8}", fullmatch=True),
                       st.floats(-0.2, 0.2, allow_nan=False), min_size=1, max_size=5))
def test_csv_roundtrip(weights):
    text = "symbol,weight\n" + "".join(f"{s},{w!r}\n" for s, w in weights.items())
    assert dict(parse_targets_csv(text).weights) == weights


@pytest.mark.parametrize("raw", ["0_1", "١", "0x1", "1__0", "+-1"])
def test_csv_weight_is_a_plain_decimal(raw):
    """float() reads "0_1" as 1.0 and Arabic-Indic "١" as 1.0: a weight file means decimals."""
    with pytest.raises(TargetError, match=r"line 2: weight must be a number \(a plain decimal"):
        parse_targets_csv(f"symbol,weight\nA,{raw}\n")


@pytest.mark.parametrize("raw, w", [("0.25", 0.25), (".5", 0.5), ("-1", -1.0), ("+1e-1", 0.1), ("1.", 1.0)])
def test_csv_plain_decimals_accepted(raw, w):
    assert parse_targets_csv(f"symbol,weight\nA,{raw}\n").weights == {"A": w}


def test_json_integer_beyond_float_is_out_of_range_not_a_crash():
    with pytest.raises(TargetError, match=r"targets\[0\]: weight must be in \[-1, 1\], got 1000"):
        parse_targets_json('{"targets": [{"symbol": "A", "weight": 1' + "0" * 400 + "}]}")
