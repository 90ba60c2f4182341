"""The selective SSM in PyTorch (training and ONNX export only; imports torch).

Imported lazily by :mod:`nanobook.signals.models`; nothing else imports it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as Fn
from torch import nn


class SelectiveSSM(nn.Module):
    """One Mamba-style block (Gu & Dao, *Mamba: Linear-Time Sequence Modeling
    with Selective State Spaces*, 2023) with a linear head per horizon.

    Input projection, causal depthwise convolution, input-dependent
    (selective) step ``delta`` and matrices ``B``, ``C`` of a diagonal SSM
    discretised by zero-order hold on ``A`` (``exp(delta A)``) and Euler on
    ``B``, SiLU gating, output projection with a residual, and a
    ``(n_horizons x 3)`` head.  The raw features are normalised inside the
    module (training-window mean and standard deviation, clipped), so the
    exported graph and the streaming step take raw features.

    ``forward(x, conv_state, ssm_state)`` with ``x`` ``(B, T, F)`` returns
    logits ``(B, T, H, 3)`` and the new states (``(B, d_inner, d_conv-1)``,
    ``(B, d_inner, d_state)``), so long sequences can be processed in chunks.
    """

    def __init__(self, n_features: int, n_horizons: int, *, d_model: int = 32, d_state: int = 8,
                 expand: int = 2, d_conv: int = 4, dt_rank: int = 4, clip: float = 10.0) -> None:
        super().__init__()
        di = expand * d_model
        self.n_features, self.n_horizons = n_features, n_horizons
        self.d_model, self.d_state, self.d_inner, self.d_conv, self.dt_rank = d_model, d_state, di, d_conv, dt_rank
        self.clip = float(clip)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("inv_std", torch.ones(n_features))
        self.emb = nn.Linear(n_features, d_model)
        self.in_proj = nn.Linear(d_model, 2 * di, bias=False)
        self.conv_w = nn.Parameter(torch.empty(di, d_conv))
        self.conv_b = nn.Parameter(torch.zeros(di))
        self.x_proj = nn.Linear(di, dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(dt_rank, di)
        # S4D-real initialisation A_n = -(n + 1); dt initialised in [1e-3, 1e-1]
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(di, 1))
        self.D = nn.Parameter(torch.ones(di))
        self.out_proj = nn.Linear(di, d_model, bias=False)
        self.head = nn.Linear(d_model, 3 * n_horizons)
        nn.init.uniform_(self.conv_w, -1.0 / math.sqrt(d_conv), 1.0 / math.sqrt(d_conv))
        dt = torch.exp(torch.rand(di) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))   # inverse softplus

    def set_normalizer(self, mean, std) -> None:
        with torch.no_grad():
            self.mean.copy_(torch.as_tensor(np.asarray(mean), dtype=torch.float32))
            self.inv_std.copy_(1.0 / torch.as_tensor(np.asarray(std), dtype=torch.float32))

    def zero_state(self, batch: int):
        return (torch.zeros(batch, self.d_inner, self.d_conv - 1),
                torch.zeros(batch, self.d_inner, self.d_state))

    def forward(self, x, conv_state, ssm_state):
        B, T, _ = x.shape
        di, n, r = self.d_inner, self.d_state, self.dt_rank
        z = torch.clamp((x - self.mean) * self.inv_std, -self.clip, self.clip)
        u = self.emb(z)
        xg = self.in_proj(u)
        xi, g = xg[..., :di], xg[..., di:]
        xpad = torch.cat([conv_state, xi.transpose(1, 2)], dim=2)          # (B, di, K-1+T)
        xc = Fn.conv1d(xpad, self.conv_w.unsqueeze(1), self.conv_b, groups=di)
        new_conv = xpad[:, :, T:]
        xc = Fn.silu(xc).transpose(1, 2)                                    # (B, T, di)
        dbc = self.x_proj(xc)
        delta = Fn.softplus(self.dt_proj(dbc[..., :r]))                     # (B, T, di)
        Bm, Cm = dbc[..., r:r + n], dbc[..., r + n:]
        A = -torch.exp(self.A_log)                                          # (di, n)
        dA = torch.exp(delta.unsqueeze(-1) * A)                             # (B, T, di, n)
        dBx = (delta * xc).unsqueeze(-1) * Bm.unsqueeze(2)                  # (B, T, di, n)
        h = ssm_state
        ys = []
        for t in range(T):
            h = dA[:, t] * h + dBx[:, t]
            ys.append((h * Cm[:, t].unsqueeze(1)).sum(-1))
        y = torch.stack(ys, dim=1) + xc * self.D
        y = y * Fn.silu(g)
        o = u + self.out_proj(y)
        return self.head(o).view(B, T, self.n_horizons, 3), new_conv, h

    def step_weights(self) -> dict:
        """The arrays the Cython :class:`~nanobook.signals.SSMStep` loads."""
        g = lambda t: t.detach().cpu().numpy().astype(np.float32)   # noqa: E731
        return {
            "mean": g(self.mean), "inv_std": g(self.inv_std), "clip": np.float32(self.clip),
            "W_emb": g(self.emb.weight), "b_emb": g(self.emb.bias), "W_in": g(self.in_proj.weight),
            "conv_w": g(self.conv_w), "conv_b": g(self.conv_b), "W_x": g(self.x_proj.weight),
            "W_dt": g(self.dt_proj.weight), "b_dt": g(self.dt_proj.bias), "A_log": g(self.A_log),
            "D": g(self.D), "W_out": g(self.out_proj.weight), "W_head": g(self.head.weight),
            "b_head": g(self.head.bias),
        }


def train_ssm(X: np.ndarray, y: np.ndarray, mean, std, *, d_model: int = 32, d_state: int = 8,
              expand: int = 2, d_conv: int = 4, dt_rank: int = 4, epochs: int = 20, chunk: int = 32,
              batch: int = 16, lr: float = 3e-3, weight_decay: float = 1e-4, seed: int = 0,
              progress: bool = True, desc: str = "ssm", val_loss=None) -> SelectiveSSM:
    """Train on one contiguous training segment by truncated
    backpropagation through time: the segment is cut into ``batch``
    contiguous streams processed in chunks of ``chunk`` steps, the state
    carried (detached) from chunk to chunk, as the streaming step carries it.
    Loss: cross-entropy averaged over horizons, ignoring labels -1.
    Runs on one thread (restored afterwards); same seed, same model.
    With ``val_loss`` (a function of the model returning a validation loss)
    the model of the epoch with the lowest validation loss is returned
    (early stopping); ``model.best_epoch`` says which."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # a model this small trains fastest on one thread
    try:
        return _train(X, y, mean, std, d_model=d_model, d_state=d_state, expand=expand, d_conv=d_conv,
                      dt_rank=dt_rank, epochs=epochs, chunk=chunk, batch=batch, lr=lr,
                      weight_decay=weight_decay, seed=seed, progress=progress, desc=desc, val_loss=val_loss)
    finally:
        torch.set_num_threads(threads)


def _train(X, y, mean, std, *, d_model, d_state, expand, d_conv, dt_rank, epochs, chunk, batch, lr,
           weight_decay, seed, progress, desc, val_loss):
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    n, F = X.shape
    H = y.shape[1]
    model = SelectiveSSM(F, H, d_model=d_model, d_state=d_state, expand=expand, d_conv=d_conv,
                         dt_rank=dt_rank)
    model.set_normalizer(mean, std)
    B = max(1, min(batch, n // max(chunk, 1)))
    L = (n // B // chunk) * chunk
    if L == 0:
        raise ValueError(f"training segment of {n} samples is too short for chunk={chunk}")
    Xs = torch.as_tensor(X[:B * L].reshape(B, L, F), dtype=torch.float32)
    ys = torch.as_tensor(y[:B * L].reshape(B, L, H).astype(np.int64))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
    best, best_state, model.best_epoch = math.inf, None, epochs - 1
    for epoch in bar:
        model.train()
        cs, hs = model.zero_state(B)
        tot, cnt = 0.0, 0
        for c in range(0, L, chunk):
            logits, cs, hs = model(Xs[:, c:c + chunk], cs, hs)
            cs, hs = cs.detach(), hs.detach()
            yy = ys[:, c:c + chunk]
            loss = Fn.cross_entropy(logits.reshape(-1, 3), yy.reshape(-1), ignore_index=-1)
            if torch.isnan(loss):      # a chunk with no label at all
                continue
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += float(loss.detach())
            cnt += 1
        if val_loss is not None:
            model.eval()
            v = float(val_loss(model))
            if v < best:
                best, model.best_epoch = v, epoch
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            bar.set_postfix(loss=f"{tot / max(cnt, 1):.4f}", val=f"{v:.4f}")
        else:
            bar.set_postfix(loss=f"{tot / max(cnt, 1):.4f}")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model


def export_onnx(model: SelectiveSSM, path, window: int = 32) -> None:
    """Write the model as an ONNX graph over a window of ``window`` ticks:
    inputs ``x`` (batch, window, F) raw features, ``conv_state``,
    ``ssm_state``; outputs ``logits`` (batch, window, H, 3) and the new
    states (the time loop is unrolled ``window`` times)."""
    import warnings

    model.eval()
    cs, hs = model.zero_state(1)
    x = torch.zeros(1, window, model.n_features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (x, cs, hs), str(path), dynamo=False,
            input_names=["x", "conv_state", "ssm_state"],
            output_names=["logits", "conv_state_out", "ssm_state_out"],
            dynamic_axes={"x": {0: "batch"}, "conv_state": {0: "batch"}, "ssm_state": {0: "batch"},
                          "logits": {0: "batch"}, "conv_state_out": {0: "batch"},
                          "ssm_state_out": {0: "batch"}},
            opset_version=17,
        )
