"""python -m nanobook signal train|eval: files, report contents, errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from nanobook.__main__ import COMMANDS  # noqa: E402
from nanobook.signals import SSMStep  # noqa: E402
from nanobook.signals.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOB = ROOT / "data" / "feeds" / "lobster" / "MSFT_2012-06-21_34200000_37800000_message_50.csv"
SMALL = ["--epochs", "2", "--d-model", "8", "--d-state", "2", "--folds", "2", "--horizons", "5,20",
         "--onnx-window", "8", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    rc = main(["train", "--format", "synthetic", "--events", "4000", "--seed", "2", "--out", str(out)] + SMALL)
    assert rc == 0
    return out


def test_train_writes_every_file(trained):
    for f in ("model.onnx", "step_weights.npz", "baselines.npz", "model.json", "report.json", "report.html"):
        assert (trained / f).stat().st_size > 0, f
    assert COMMANDS["signal"] == "nanobook.signals.cli:main"


def test_report_has_the_scores_folds_and_in_loop_comparison(trained):
    r = json.loads((trained / "report.json").read_text())
    assert r["horizons"] == [5, 20] and r["flat_band"] == 0.0
    for m in ("ssm", "logistic", "majority", "persistence"):
        for h in ("h5", "h20"):
            s = r["models"][m][h]
            assert s["n_test"] > 0 and s["log_loss"] > 0 and 0 <= s["balanced_accuracy"] <= 1
    v = r["validation"]
    assert v["embargo"] == 20 and len(v["folds"]) == 2
    for f in v["folds"]:                     # the gap: training ends horizon + embargo before the test
        assert f["test"][0] - f["train"][1] >= 20 + 20
    assert v["final_train"][1] <= v["holdout"][0] - 40
    loop = r["in_loop"]
    for side in ("with_signal", "without_signal"):
        for k in ("pnl", "sharpe", "n_fills", "max_inventory", "fees"):
            assert k in loop[side], k
    assert loop["settings"]["latency_ns"] == 1_000_000
    assert "sqrt(365 days" in loop["sharpe_convention"] and "positive" in loop["markout_convention"]
    html = (trained / "report.html").read_text()
    assert "<table>" in html and "persistence" in html and "with signal" in html


def test_onnx_and_step_weights_agree(trained):
    step = SSMStep(dict(np.load(trained / "step_weights.npz")))
    sess = ort.InferenceSession(str(trained / "model.onnx"), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(0).normal(size=(8, step.n_features))
    cs = np.zeros((1, step.d_inner, step.d_conv - 1), np.float32)
    hs = np.zeros((1, step.d_inner, step.d_state), np.float32)
    out = sess.run(None, {"x": X[None].astype(np.float32), "conv_state": cs, "ssm_state": hs})[0][0]
    np.testing.assert_allclose(step.run(X), out, atol=1e-5, rtol=1e-5)


def test_eval_scores_a_saved_model_on_another_stream(trained, tmp_path):
    rc = main(["eval", "--model", str(trained), "--format", "synthetic", "--events", "3000", "--seed", "9",
               "--out", str(tmp_path)])
    assert rc == 0
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["command"] == "eval" and r["models"]["ssm"]["h5"]["n_test"] > 1000
    assert (tmp_path / "report.html").exists()


def test_train_on_lobster_sample_reports_whatever_is_true(tmp_path):
    rc = main(["train", "--format", "lobster", "--data", str(LOB), "--out", str(tmp_path), "--horizons", "5,20",
               "--epochs", "1", "--d-model", "8", "--d-state", "2", "--folds", "2", "--embargo", "5",
               "--no-progress"])
    assert rc == 0
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["n_samples"] > 500 and r["format"] == "lobster"


@pytest.mark.parametrize("argv, msg", [
    (["train", "--format", "binance", "--out", "x"], "--format binance needs --data FILE or --sample NAME"),
    (["train", "--format", "binance", "--data", "f", "--sample", "s", "--out", "x"], "not both"),
    (["train", "--format", "synthetic", "--data", "f", "--out", "x"], "takes no --data"),
    (["train", "--format", "synthetic"], "--out DIR is required"),
    (["train", "--format", "synthetic", "--events", "10", "--out", "x"], "--events must be >= 100, got 10"),
    (["train", "--format", "synthetic", "--horizons", "0,5", "--out", "x"], "horizons must be ints >= 1"),
    (["train", "--format", "csv", "--out", "x"], "invalid choice: 'csv'"),
    (["train", "--format", "synthetic", "--latency-us", "-1", "--out", "x"], "--latency-us must be"),
])
def test_bad_arguments_exit_2_naming_them(argv, msg, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert msg in capsys.readouterr().err


def test_errors_are_messages_not_tracebacks(tmp_path):
    env_cmd = [sys.executable, "-m", "nanobook", "signal", "train", "--format", "binance", "--data",
               str(tmp_path / "missing.gz"), "--out", str(tmp_path / "o")]
    p = subprocess.run(env_cmd, capture_output=True, text=True)
    assert p.returncode == 2 and "does not exist" in p.stderr and "Traceback" not in p.stderr
    p = subprocess.run([sys.executable, "-m", "nanobook", "signal", "eval", "--model", str(tmp_path),
                        "--format", "synthetic", "--events", "500", "--out", str(tmp_path / "e")],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "has no model.json" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "e").exists()


@pytest.mark.parametrize("extra, msg", [
    (["--onnx-window", "0"], "onnx_window must be an int >= 1, got 0"),
    (["--folds", "0"], "folds must be an int >= 1, got 0"),
    (["--holdout", "1.0"], "holdout must be a number in (0.0, 1.0), got 1.0"),
    (["--epochs", "0"], "epochs must be an int >= 1, got 0"),
])
def test_bad_training_options_exit_2_before_writing(tmp_path, capsys, extra, msg):
    argv = ["train", "--format", "synthetic", "--events", "300", "--out", str(tmp_path / "o"), "--no-progress"]
    assert main(argv + extra) == 2
    assert msg in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_too_little_data_is_refused_before_writing(tmp_path):
    rc = main(["train", "--format", "synthetic", "--events", "300", "--out", str(tmp_path / "o")] + SMALL)
    assert rc == 2 and not (tmp_path / "o").exists()


def test_sample_names_resolve_through_nanobook_datasets(tmp_path, monkeypatch, capsys):
    import types

    fake = types.ModuleType("nanobook.datasets")

    def path(name):
        if name != "lobster_msft_message":
            raise ValueError(f"name must be one of lobster_msft_message, got {name!r}")
        return LOB

    fake.path = path
    monkeypatch.setitem(sys.modules, "nanobook.datasets", fake)
    import nanobook
    monkeypatch.setattr(nanobook, "datasets", fake, raising=False)
    rc = main(["train", "--format", "lobster", "--sample", "lobster_msft_message", "--out", str(tmp_path),
               "--horizons", "5,20", "--epochs", "1", "--d-model", "8", "--d-state", "2", "--folds", "2",
               "--embargo", "5", "--no-progress"])
    assert rc == 0 and (tmp_path / "report.json").exists()
    with pytest.raises(SystemExit):
        main(["train", "--format", "lobster", "--sample", "nope", "--out", str(tmp_path)])
    assert "--sample: name must be one of" in capsys.readouterr().err
