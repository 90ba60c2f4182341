# cython: language_level=3
"""Streaming step of the selective state-space model (Mamba-style).

One call of :meth:`SSMStep.step` advances the model by one tick: O(1) work
and memory per tick (the convolution window and the SSM state are carried
between calls).  The weights are those of
:class:`nanobook.signals.models.SelectiveSSM` (the ``step_weights.npz`` that
training writes); the arithmetic is float32 like the ONNX graph, so the
logits equal onnxruntime's full-sequence output to about 1e-6.  The hot
loops are C kernels (below) compiled for generic x86-64 and for x86-64-v3
(AVX2 + FMA); exp and log1p are branch-free polynomials so they vectorise.

Per tick, with ``z`` the normalised features::

    u   = W_emb z + b_emb                       (d_model)
    x,g = W_in u                                (d_inner each)
    xc  = silu(causal depthwise conv_K(x) + b_conv)
    dt,B,C = W_x xc                             (dt_rank, d_state, d_state)
    delta = softplus(W_dt dt + b_dt)            (d_inner)
    h   = exp(delta * A) * h + (delta * xc) B   (d_inner x d_state), A = -exp(A_log)
    y   = (h C + D * xc) * silu(g)
    o   = u + W_out y
    logits = W_head o + b_head                  (n_horizons x 3)
"""
from libc.string cimport memcpy, memmove, memset
from libc.stdlib cimport malloc, free

import numpy as np
cimport numpy as cnp

cnp.import_array()

_KEYS = ("mean", "inv_std", "W_emb", "b_emb", "W_in", "conv_w", "conv_b", "W_x", "W_dt", "b_dt",
         "A_log", "D", "W_out", "W_head", "b_head")


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* No trapping-math for these kernels only (no code here reads FP
       exception flags): it lets GCC turn the clamps into vector min/max. */
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC push_options
    #pragma GCC optimize ("no-trapping-math")
    #endif
    /* exp(x) in float32, branch-free so that loops over it vectorise:
       Cody-Waite reduction x = k ln2 + r, |r| <= ln2 / 2, Cephes' degree-6
       polynomial for e^r (relative error ~ 2e-7), 2^k by the exponent bits;
       rounding to nearest by the 1.5 * 2^23 trick (no floorf call). */
    static inline float nb_expf(float x) {
        x = x < -87.0f ? -87.0f : x;
        x = x > 88.0f ? 88.0f : x;
        float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
        float r = x - k * 0.693359375f + k * 2.12194440e-4f;
        float p = 1.9875691500E-4f;
        p = p * r + 1.3981999507E-3f;
        p = p * r + 8.3334519073E-3f;
        p = p * r + 4.1665795894E-2f;
        p = p * r + 1.6666665459E-1f;
        p = p * r + 5.0000001201E-1f;
        p = p * r * r + r + 1.0f;
        int32_t bits = ((int32_t)k + 127) << 23;
        float scale;
        memcpy(&scale, &bits, sizeof scale);
        return p * scale;
    }

    /* The two hot kernels are compiled twice, for generic x86-64 and for
       Haswell-class cores (AVX2 + FMA), and the loader picks one at run
       time (GCC function multi-versioning); other compilers get one copy. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define NB_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
    #else
    #define NB_CLONES
    #endif

    /* y[j] += sum_i x[i] * W[i * n_out + j]  (W stored input-major) */
    NB_CLONES static void nb_gemv_acc(float *restrict y, const float *restrict x,
                                      const float *restrict W, int n_in, int n_out) {
        for (int i = 0; i < n_in; i++) {
            const float v = x[i];
            const float *restrict row = W + (size_t)i * n_out;
            for (int j = 0; j < n_out; j++) y[j] += v * row[j];
        }
    }

    /* h <- exp(delta A) h + (delta x) B;  y = C.h + D x  for every channel */
    NB_CLONES static void nb_ssm_update(float *restrict h, float *restrict dA, const float *restrict A,
                                        const float *restrict dl, const float *restrict xc,
                                        const float *restrict B, const float *restrict C,
                                        const float *restrict Dskip, float *restrict y, int Di, int N) {
        for (int c = 0; c < Di; c++)
            for (int n = 0; n < N; n++) dA[c * N + n] = dl[c] * A[c * N + n];
        for (int i = 0; i < Di * N; i++) dA[i] = nb_expf(dA[i]);
        for (int c = 0; c < Di; c++) {
            const float dx = dl[c] * xc[c];
            float *restrict hc = h + c * N;
            const float *restrict ac = dA + c * N;
            float acc = 0.0f;
            for (int n = 0; n < N; n++) {
                hc[n] = ac[n] * hc[n] + dx * B[n];
                acc += hc[n] * C[n];
            }
            y[c] = acc + Dskip[c] * xc[c];
        }
    }
    /* log(1 + t) for t in [0, 1]: y = 1 + t in [1, 2], log y = 2 atanh(s),
       s = (y - 1) / (y + 1) = t / (2 + t) in [0, 1/3], odd series to s^13
       (relative error < 1e-7).  Branch-free, so loops over it vectorise. */
    static inline float nb_log1p01(float t) {
        float s = t / (2.0f + t), s2 = s * s;
        float q = 1.0f / 13.0f;
        q = q * s2 + 1.0f / 11.0f;
        q = q * s2 + 1.0f / 9.0f;
        q = q * s2 + 1.0f / 7.0f;
        q = q * s2 + 1.0f / 5.0f;
        q = q * s2 + 1.0f / 3.0f;
        q = q * s2 + 1.0f;
        return 2.0f * s * q;
    }

    /* x <- silu(x) */
    NB_CLONES static void nb_silu(float *restrict x, int n) {
        for (int c = 0; c < n; c++) x[c] = x[c] / (1.0f + nb_expf(-x[c]));
    }

    /* dl <- softplus(dl), torch's threshold 20 */
    NB_CLONES static void nb_softplus(float *restrict dl, int Di) {
        for (int c = 0; c < Di; c++) {
            float v = dl[c];
            float a = v < 0.0f ? -v : v;
            float sp = (v > 0.0f ? v : 0.0f) + nb_log1p01(nb_expf(-a));
            dl[c] = v > 20.0f ? v : sp;
        }
    }

    /* y <- y * silu(g) */
    NB_CLONES static void nb_gate(float *restrict y, const float *restrict g, int Di) {
        for (int c = 0; c < Di; c++) y[c] *= g[c] / (1.0f + nb_expf(-g[c]));
    }
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC pop_options
    #endif
    """
    float nb_expf(float x) noexcept nogil
    void nb_gemv_acc(float *y, const float *x, const float *W, int n_in, int n_out) noexcept nogil
    void nb_ssm_update(float *h, float *dA, const float *A, const float *dl, const float *xc,
                       const float *B, const float *C, const float *Dskip, float *y, int Di, int N) noexcept nogil
    void nb_silu(float *x, int n) noexcept nogil
    void nb_softplus(float *dl, int Di) noexcept nogil
    void nb_gate(float *y, const float *g, int Di) noexcept nogil


def _expf(float x) -> float:
    """The step's exponential (for its accuracy test)."""
    return nb_expf(x)


cdef class SSMStep:
    """Recurrent float32 inference of a trained selective SSM.

    Parameters
    ----------
    weights : mapping of str to array
        The arrays of ``step_weights.npz`` (torch layouts: ``W_*`` are
        ``(out, in)``) plus ``clip``.

    Raises
    ------
    ValueError
        A missing array or inconsistent shapes (named).
    """

    cdef readonly int n_features, d_model, d_inner, d_state, d_conv, dt_rank, n_horizons
    cdef readonly float clip
    cdef float *buf
    cdef float *mean
    cdef float *inv_std
    cdef float *WembT
    cdef float *b_emb
    cdef float *WinT
    cdef float *conv_wT
    cdef float *conv_b
    cdef float *WxT
    cdef float *WdtT
    cdef float *b_dt
    cdef float *A
    cdef float *Dskip
    cdef float *WoutT
    cdef float *WheadT
    cdef float *b_head
    # state and scratch
    cdef float *conv_state      # (d_conv - 1, d_inner), oldest first
    cdef float *h               # (d_inner, d_state)
    cdef float *z
    cdef float *u
    cdef float *xg
    cdef float *xc
    cdef float *dbc
    cdef float *delta
    cdef float *y
    cdef float *o
    cdef float *logit
    cdef float *dA
    cdef Py_ssize_t n_weights, n_state

    def __cinit__(self, *args, **kwargs):
        self.buf = NULL

    def __dealloc__(self):
        free(self.buf)

    def __init__(self, weights) -> None:
        for k in _KEYS + ("clip",):
            if k not in weights:
                raise ValueError(f"weights is missing {k!r}")
        w = {k: np.ascontiguousarray(weights[k], dtype=np.float32) for k in _KEYS}
        F = w["mean"].shape[0]
        D = w["b_emb"].shape[0]
        Di = w["conv_b"].shape[0]
        K = w["conv_w"].shape[1] if w["conv_w"].ndim == 2 else 0
        N = w["A_log"].shape[1] if w["A_log"].ndim == 2 else 0
        R = w["W_dt"].shape[1] if w["W_dt"].ndim == 2 else 0
        H3 = w["b_head"].shape[0]
        expect = {"mean": (F,), "inv_std": (F,), "W_emb": (D, F), "b_emb": (D,), "W_in": (2 * Di, D),
                  "conv_w": (Di, K), "conv_b": (Di,), "W_x": (R + 2 * N, Di), "W_dt": (Di, R),
                  "b_dt": (Di,), "A_log": (Di, N), "D": (Di,), "W_out": (D, Di), "W_head": (H3, D),
                  "b_head": (H3,)}
        for k, shp in expect.items():
            if w[k].shape != shp:
                raise ValueError(f"weights[{k!r}] must have shape {shp}, got {w[k].shape}")
        if K < 1 or N < 1 or R < 1 or H3 % 3 or H3 == 0:
            raise ValueError(f"inconsistent model sizes: d_conv={K}, d_state={N}, dt_rank={R}, head={H3}")
        if not np.isfinite(np.concatenate([a.ravel() for a in w.values()])).all():
            raise ValueError("weights contain NaN or inf")
        clip = float(weights["clip"])
        if not clip > 0:
            raise ValueError(f"clip must be > 0, got {clip!r}")
        self.n_features, self.d_model, self.d_inner, self.d_state = F, D, Di, N
        self.d_conv, self.dt_rank, self.n_horizons, self.clip = K, R, H3 // 3, clip
        sizes = [F, F, F * D, D, D * 2 * Di, K * Di, Di, Di * (R + 2 * N), R * Di, Di, Di * N, Di,
                 Di * D, D * H3, H3]
        self.n_weights = sum(sizes)
        state = [(K - 1) * Di, Di * N]
        scratch = [F, D, 2 * Di, Di, R + 2 * N, Di, Di, D, H3, Di * N]
        self.n_state = sum(state)
        total = self.n_weights + self.n_state + sum(scratch)
        free(self.buf)
        self.buf = <float *> malloc(max(total, 1) * sizeof(float))
        if self.buf == NULL:
            raise MemoryError()
        flat = np.concatenate([np.ascontiguousarray(a, dtype=np.float32).ravel() for a in (
            w["mean"], w["inv_std"], w["W_emb"].T, w["b_emb"], w["W_in"].T, w["conv_w"].T,
            w["conv_b"], w["W_x"].T, w["W_dt"].T, w["b_dt"], -np.exp(w["A_log"]), w["D"],
            w["W_out"].T, w["W_head"].T, w["b_head"])])
        cdef const float[::1] fv = flat
        memcpy(self.buf, &fv[0], self.n_weights * sizeof(float))
        cdef float *p = self.buf
        cdef int cF = F, cD = D, cDi = Di, cK = K, cN = N, cR = R, cH3 = H3
        self.mean = p; p += cF
        self.inv_std = p; p += cF
        self.WembT = p; p += cF * cD
        self.b_emb = p; p += cD
        self.WinT = p; p += cD * 2 * cDi
        self.conv_wT = p; p += cK * cDi
        self.conv_b = p; p += cDi
        self.WxT = p; p += cDi * (cR + 2 * cN)
        self.WdtT = p; p += cR * cDi
        self.b_dt = p; p += cDi
        self.A = p; p += cDi * cN
        self.Dskip = p; p += cDi
        self.WoutT = p; p += cDi * cD
        self.WheadT = p; p += cD * cH3
        self.b_head = p; p += cH3
        self.conv_state = p; p += (cK - 1) * cDi
        self.h = p; p += cDi * cN
        self.z = p; p += cF
        self.u = p; p += cD
        self.xg = p; p += 2 * cDi
        self.xc = p; p += cDi
        self.dbc = p; p += cR + 2 * cN
        self.delta = p; p += cDi
        self.y = p; p += cDi
        self.o = p; p += cD
        self.logit = p; p += cH3
        self.dA = p; p += cDi * cN
        self.reset()

    @property
    def n_params(self) -> int:
        """Trainable parameters (normalisation statistics excluded)."""
        return int(self.n_weights - 2 * self.n_features)

    @property
    def flops_per_tick(self) -> int:
        """Floating-point operations per tick: 2 per multiply-add of the
        matrix products and the convolution, 6 per SSM state element
        (delta*A, dA*h, delta*x*B, +, *C, +), plus the element-wise work;
        the ``d_inner * (d_state + 3)`` exponentials are counted as one each."""
        F, D, Di, N = self.n_features, self.d_model, self.d_inner, self.d_state
        K, R, H3 = self.d_conv, self.dt_rank, 3 * self.n_horizons
        mm = 2 * (F * D + D * 2 * Di + Di * (R + 2 * N) + R * Di + Di * D + D * H3)
        conv = 2 * K * Di
        ssm = Di * N * 6 + Di * N
        elem = 3 * F + Di * 12 + D
        return int(mm + conv + ssm + elem)

    def reset(self) -> None:
        """Zero the carried state (convolution window and SSM state)."""
        memset(self.conv_state, 0, self.n_state * sizeof(float))

    def get_state(self):
        """Copies of the carried state: ``(conv_state (d_inner, d_conv - 1),
        ssm_state (d_inner, d_state))`` in the ONNX graph's layout."""
        Di, K, N = self.d_inner, self.d_conv, self.d_state
        cs = np.asarray(<float[:(K - 1) * Di]> self.conv_state).reshape(K - 1, Di).T.copy() \
            if K > 1 else np.zeros((Di, 0), np.float32)
        h = np.asarray(<float[:Di * N]> self.h).reshape(Di, N).copy()
        return cs, h

    def set_state(self, conv_state, ssm_state) -> None:
        """Load a carried state (the layouts of :meth:`get_state`)."""
        Di, K, N = self.d_inner, self.d_conv, self.d_state
        cs = np.ascontiguousarray(conv_state, dtype=np.float32)
        hs = np.ascontiguousarray(ssm_state, dtype=np.float32)
        if cs.shape != (Di, K - 1):
            raise ValueError(f"conv_state must have shape {(Di, K - 1)}, got {cs.shape}")
        if hs.shape != (Di, N):
            raise ValueError(f"ssm_state must have shape {(Di, N)}, got {hs.shape}")
        if K > 1:
            np.asarray(<float[:(K - 1) * Di]> self.conv_state)[:] = cs.T.ravel()
        np.asarray(<float[:Di * N]> self.h)[:] = hs.ravel()

    cdef void _step(self, const double *x, double *out) noexcept nogil:
        cdef int F = self.n_features, D = self.d_model, Di = self.d_inner, N = self.d_state
        cdef int K = self.d_conv, R = self.dt_rank, H3 = 3 * self.n_horizons, RN = self.dt_rank + 2 * self.d_state
        cdef int i, c, k
        cdef float v
        cdef float *row
        cdef float *ac
        cdef float *z = self.z
        cdef float *u = self.u
        cdef float *xg = self.xg
        cdef float *xc = self.xc
        cdef float *dbc = self.dbc
        cdef float *dl = self.delta
        cdef float *y = self.y
        cdef float *o = self.o
        cdef float *lg = self.logit
        cdef float *cs = self.conv_state
        cdef float *cw = self.conv_wT
        cdef float clip = self.clip
        for i in range(F):
            v = (<float> x[i] - self.mean[i]) * self.inv_std[i]
            v = clip if v > clip else v
            v = -clip if v < -clip else v
            z[i] = v
        memcpy(u, self.b_emb, D * sizeof(float))
        nb_gemv_acc(u, z, self.WembT, F, D)
        memset(xg, 0, 2 * Di * sizeof(float))
        nb_gemv_acc(xg, u, self.WinT, D, 2 * Di)
        # causal depthwise convolution over the last K inputs of each channel
        row = cw + (K - 1) * Di
        for c in range(Di):
            xc[c] = self.conv_b[c] + row[c] * xg[c]
        for k in range(K - 1):
            row = cs + k * Di
            ac = cw + k * Di
            for c in range(Di):
                xc[c] += ac[c] * row[c]
        if K > 1:
            memmove(cs, cs + Di, (K - 2) * Di * sizeof(float))
            memcpy(cs + (K - 2) * Di, xg, Di * sizeof(float))
        # silu of the convolution output, then delta = softplus(W_dt dt + b_dt)
        nb_silu(xc, Di)
        memset(dbc, 0, RN * sizeof(float))
        nb_gemv_acc(dbc, xc, self.WxT, Di, RN)
        memcpy(dl, self.b_dt, Di * sizeof(float))
        nb_gemv_acc(dl, dbc, self.WdtT, R, Di)
        nb_softplus(dl, Di)
        nb_ssm_update(self.h, self.dA, self.A, dl, xc, dbc + R, dbc + R + N, self.Dskip, y, Di, N)
        nb_gate(y, xg + Di, Di)
        memcpy(o, u, D * sizeof(float))
        nb_gemv_acc(o, y, self.WoutT, Di, D)
        memcpy(lg, self.b_head, H3 * sizeof(float))
        nb_gemv_acc(lg, o, self.WheadT, D, H3)
        for k in range(H3):
            out[k] = lg[k]

    def step(self, x, out=None):
        """Advance one tick on the raw feature vector ``x`` (n_features,);
        returns the logits ``(n_horizons, 3)`` (written into ``out`` when
        given, a float64 array of that shape).  A C-contiguous float64
        ``x`` and ``out`` take the fast path (no copy)."""
        cdef const double[::1] xv
        cdef double[:, ::1] ov
        cdef Py_ssize_t i
        if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 1 and x.flags.c_contiguous:
            xv = x
            if xv.shape[0] != self.n_features:
                raise ValueError(f"x must have shape ({self.n_features},), got {x.shape}")
            for i in range(xv.shape[0]):
                if not (xv[i] - xv[i] == 0.0):          # NaN or inf
                    raise ValueError(f"x must be finite, got {x.tolist()}")
        else:
            xv = self._features(x)
        if out is None:
            out = np.empty((self.n_horizons, 3))
        elif not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.ndim != 2 \
                or out.shape[0] != self.n_horizons or out.shape[1] != 3 or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous float64 array of shape {(self.n_horizons, 3)}")
        ov = out
        self._step(&xv[0], &ov[0, 0])
        return out

    def _features(self, x):
        a = np.ascontiguousarray(x, dtype=np.float64)
        if a.shape != (self.n_features,):
            raise ValueError(f"x must have shape ({self.n_features},), got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"x must be finite, got {a.tolist()}")
        return a

    def run(self, X):
        """Step through the rows of ``X`` (n, n_features) from the current
        state; returns the logits ``(n, n_horizons, 3)``.  Runs without the GIL."""
        a = np.ascontiguousarray(X, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}), got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError("X must be finite")
        out = np.empty((a.shape[0], self.n_horizons, 3))
        cdef const double[:, ::1] xv = a
        cdef double[:, :, ::1] ov = out
        cdef Py_ssize_t t, n = a.shape[0]
        with nogil:
            for t in range(n):
                self._step(&xv[t, 0], &ov[t, 0, 0])
        return out
