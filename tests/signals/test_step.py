"""The Cython streaming step equals the ONNX graph (and torch) at every tick."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from nanobook.signals import SSMStep  # noqa: E402
from nanobook.signals._torch_ssm import SelectiveSSM, export_onnx  # noqa: E402


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    m = SelectiveSSM(13, 3, **kw)
    with torch.no_grad():   # move every parameter off its initial value
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    rng = np.random.default_rng(seed)
    m.set_normalizer(rng.normal(size=13), rng.uniform(0.5, 2.0, size=13))
    return m.eval()


@pytest.mark.parametrize("kw", [{}, dict(d_model=16, d_state=4, expand=1, d_conv=2, dt_rank=2),
                                dict(d_model=8, d_state=2, d_conv=1)])
def test_step_equals_onnx_full_sequence_at_every_step(tmp_path, kw):
    m = _model(**kw)
    W = 32
    export_onnx(m, tmp_path / "m.onnx", window=W)
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3 * W, 13)) * 3.0          # raw features, some beyond the clip
    step = SSMStep(m.step_weights())
    got = step.run(X)
    cs = np.zeros((1, m.d_inner, m.d_conv - 1), np.float32)
    hs = np.zeros((1, m.d_inner, m.d_state), np.float32)
    for c in range(3):                               # three windows, the state carried by ONNX
        out, cs, hs = sess.run(None, {"x": X[None, c * W:(c + 1) * W].astype(np.float32),
                                      "conv_state": cs, "ssm_state": hs})
        np.testing.assert_allclose(got[c * W:(c + 1) * W], out[0], atol=1e-5, rtol=1e-5)
    # the carried states agree too
    s_cs, s_hs = step.get_state()
    np.testing.assert_allclose(s_cs, cs[0], atol=1e-5)
    np.testing.assert_allclose(s_hs, hs[0], atol=1e-5)
    # and torch's full-sequence forward
    with torch.no_grad():
        ref, _, _ = m(torch.as_tensor(X[None], dtype=torch.float32), *m.zero_state(1))
    np.testing.assert_allclose(got, ref[0].numpy(), atol=1e-5, rtol=1e-5)


def test_step_one_tick_at_a_time_equals_run_and_reset_restarts():
    m = _model(3)
    step = SSMStep(m.step_weights())
    X = np.random.default_rng(2).normal(size=(50, 13))
    full = step.run(X)
    step.reset()
    one = np.stack([step.step(x).copy() for x in X])
    np.testing.assert_array_equal(one, full)
    # state is carried: a second pass without reset differs, after reset it repeats
    assert not np.allclose(step.run(X), full)
    step.reset()
    np.testing.assert_array_equal(step.run(X), full)


def test_set_state_round_trip():
    step = SSMStep(_model(4).step_weights())
    X = np.random.default_rng(5).normal(size=(20, 13))
    step.run(X[:10])
    cs, hs = step.get_state()
    tail = step.run(X[10:])
    step.reset()
    step.set_state(cs, hs)
    np.testing.assert_array_equal(step.run(X[10:]), tail)


def test_bad_inputs_raise_and_leave_the_state_alone():
    m = _model(6)
    w = m.step_weights()
    step = SSMStep(w)
    step.run(np.ones((5, 13)))
    before = step.get_state()
    with pytest.raises(ValueError, match="x must have shape"):
        step.step(np.ones(12))
    with pytest.raises(ValueError, match="x must be finite"):
        step.step(np.array([np.nan] + [0.0] * 12))
    with pytest.raises(ValueError, match="X must have shape"):
        step.run(np.ones((4, 3)))
    with pytest.raises(ValueError, match="out must be"):
        step.step(np.ones(13), out=np.empty((3, 3), np.float32))
    after = step.get_state()
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    bad = dict(w)
    del bad["W_in"]
    with pytest.raises(ValueError, match="W_in"):
        SSMStep(bad)
    bad = dict(w, W_out=w["W_out"][:, :-1])
    with pytest.raises(ValueError, match="W_out"):
        SSMStep(bad)
    bad = dict(w, D=np.full_like(w["D"], np.inf))
    with pytest.raises(ValueError, match="NaN or inf"):
        SSMStep(bad)
    with pytest.raises(ValueError, match="conv_state must have shape"):
        step.set_state(np.zeros((2, 2)), before[1])


def test_size_and_flops_are_stated():
    m = _model(7)
    step = SSMStep(m.step_weights())
    n_params = sum(p.numel() for p in m.parameters())
    assert step.n_params == n_params
    assert step.flops_per_tick >= 2 * n_params



def test_the_step_exponential_is_accurate_to_float32():
    from nanobook.signals._step import _expf

    xs = np.concatenate([np.linspace(-87, 20, 20001), [-1e4, -87.5, 0.0, 1e-8, -1e-8]])
    got = np.array([_expf(float(x)) for x in xs])
    x32 = np.maximum(xs, -87.0).astype(np.float32).astype(np.float64)   # the step sees float32 inputs
    np.testing.assert_allclose(got, np.exp(x32), rtol=1e-6)


def test_step_fast_and_slow_paths_agree_and_check_input():
    step = SSMStep(_model(10).step_weights())
    X = np.random.default_rng(11).normal(size=(5, 13))
    a = np.stack([step.step(x).copy() for x in X])             # float64 contiguous: fast path
    step.reset()
    b = np.stack([step.step(list(x)).copy() for x in X])       # a list: converted
    np.testing.assert_array_equal(a, b)
    for bad in (np.inf, -np.inf, np.nan):
        x = np.zeros(13)
        x[4] = bad
        with pytest.raises(ValueError, match="x must be finite"):
            step.step(x)
    with pytest.raises(ValueError, match=r"x must have shape \(13,\)"):
        step.step(np.zeros(14))
    with pytest.raises(ValueError, match="out must be"):
        step.step(np.zeros(13), out=np.zeros((3, 3))[:, :2])


def test_the_step_decay_exponential_is_accurate_to_float32():
    # 2^x for x <= 0, used for the SSM decays exp(delta A) = 2^(delta A log2 e)
    from nanobook.signals._step import _exp2f_le0

    xs = np.concatenate([np.linspace(-125, 0, 20001), [-1e4, -125.5, -0.0, -1e-8, -0.5, -1.5]])
    got = np.array([_exp2f_le0(float(x)) for x in xs])
    x32 = np.maximum(xs, -125.0).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(got, np.exp2(x32), rtol=2e-7)
