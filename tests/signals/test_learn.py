"""The pipeline can learn: on the synthetic flow (marketable orders tilted by
a latent fair price) the SSM and the logistic baseline beat the majority
class clearly out of sample; the same pipeline on permuted labels cannot
reach that margin."""
import dataclasses

import numpy as np
import pytest

pytest.importorskip("torch")

from nanobook.signals import build_dataset, load_stream  # noqa: E402
from nanobook.signals.models import SSMConfig  # noqa: E402
from nanobook.signals.pipeline import fit_and_score  # noqa: E402

MARGIN_BA = 0.45           # balanced accuracy; chance (and the majority class) is 1/3
# The small model trains 6 epochs on all its training rows (val_frac=0: no
# early-stopping tail, which at 6 epochs only adds noise to the epoch choice).
MARGIN_LL = 0.97           # log loss at least 3 % below the majority class's
SMALL = SSMConfig(d_model=16, d_state=4, epochs=6, val_frac=0.0)


@pytest.fixture(scope="module")
def data():
    md, _ = load_stream("synthetic", n_events=12_000, seed=1)
    ds = build_dataset(md, horizons=(10, 50))
    n = len(ds)
    h0 = int(n * 0.7)
    train = np.flatnonzero(ds.t1() < h0 - 50)      # purged: no training label reaches the test part
    test = np.arange(h0, n)
    return ds, train, test


def _passes(scores, model):
    return all(scores[model][h]["balanced_accuracy"] >= MARGIN_BA
               and scores[model][h]["log_loss"] <= MARGIN_LL * scores["majority"][h]["log_loss"]
               for h in ("h10", "h50"))


def test_ssm_and_logistic_beat_the_majority_class(data):
    ds, train, test = data
    scores, _ = fit_and_score(ds, train, test, SMALL, progress=False)
    for h in ("h10", "h50"):
        assert scores["majority"][h]["balanced_accuracy"] == pytest.approx(1 / 3)
        assert scores["ssm"][h]["n_test"] > 3000
    assert _passes(scores, "ssm"), scores
    assert _passes(scores, "logistic"), scores


def test_a_broken_pipeline_cannot_reach_the_margin(data):
    ds, train, test = data
    rng = np.random.default_rng(0)
    broken = dataclasses.replace(ds, labels=ds.labels[rng.permutation(len(ds))])
    scores, _ = fit_and_score(broken, train, test, SMALL, progress=False)
    assert not _passes(scores, "ssm") and not _passes(scores, "logistic"), scores
    for m in ("ssm", "logistic", "persistence"):
        for h in ("h10", "h50"):
            assert scores[m][h]["balanced_accuracy"] < 0.40


def test_training_is_reproducible(data):
    ds, train, test = data
    cfg = SSMConfig(d_model=8, d_state=2, epochs=1, seed=3)
    a, fa = fit_and_score(ds, train[:2000], test[:500], cfg, progress=False)
    b, fb = fit_and_score(ds, train[:2000], test[:500], cfg, progress=False)
    assert a == b
    wa, wb = fa["ssm"][0].step_weights(), fb["ssm"][0].step_weights()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k])


def test_ssm_config_is_keyword_only():
    # issue 16: no signature with more than ~10 positional parameters
    import inspect

    from nanobook.signals import _torch_ssm
    with pytest.raises(TypeError):
        SSMConfig(8, 2)
    for f, n in ((SSMConfig.__init__, 1), (_torch_ssm._train, 4), (_torch_ssm.train_ssm, 4)):
        kinds = [p.kind for p in inspect.signature(f).parameters.values()]
        assert kinds.count(inspect.Parameter.POSITIONAL_OR_KEYWORD) == n, f
