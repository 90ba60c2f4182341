# cython: language_level=3
"""Streaming step of the selective state-space model (Mamba-style).

One call of :meth:`SSMStep.step` advances the model by one tick: O(1) work
and memory per tick (the convolution window and the SSM state are carried
between calls).  The weights are those of
:class:`nanobook.signals.models.SelectiveSSM` (the ``step_weights.npz`` that
training writes); the arithmetic is float32 like the ONNX graph, so the
logits equal onnxruntime's full-sequence output to about 1e-6.  The step
is one C function (below) compiled for generic x86-64, x86-64-v3 (AVX2 +
FMA) and x86-64-v4 (AVX-512), the copy chosen from the CPU at import
(:data:`KERNEL`); exp and log1p are branch-free polynomials so they
vectorise, the matrix-vector products keep their outputs in registers, and
no memory is allocated per tick.

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

The step runs it with the linear maps folded at load time (``SSMStep``'s
Notes): ``x,g = (W_in W_emb) z + W_in b_emb`` and ``logits = (W_head W_emb) z
+ (W_head W_out) y + W_head b_emb + b_head``.
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
    static inline __attribute__((always_inline)) float nb_expf(float x) {
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

    /* The step is compiled three times, for x86-64-v4 (AVX-512), x86-64-v3
       (AVX2 + FMA) and generic x86-64, and nb_step_select() picks one from
       the CPU at import (GCC on x86-64 Linux; elsewhere one generic copy). */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define NB_DISPATCH 1
    #else
    #define NB_DISPATCH 0
    #endif
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC diagnostic ignored "-Wpsabi"    /* vector helpers are always inlined: no ABI crossing */
    #endif

    /* 2^x in float32 for x <= 0 (the SSM decays exp(delta A) = 2^(delta A
       log2(e)), with A log2(e) folded at load): x = k + f, |f| <= 1/2, a
       degree-6 polynomial for 2^f fitted (Lawson-weighted least squares,
       relative error) on [-1/2, 1/2], max relative error 1e-7 evaluated in
       float32; 2^k by the exponent bits.  Three operations fewer than
       nb_expf: no upper clamp, no Cody-Waite reduction. */
    static inline __attribute__((always_inline)) float nb_exp2f_le0(float x) {
        x = x < -125.0f ? -125.0f : x;
        float k = (x + 12582912.0f) - 12582912.0f;
        float f = x - k;
        float p = 1.5345810970757157e-4f;
        p = p * f + 1.3399930903688073e-3f;
        p = p * f + 9.618489071726799e-3f;
        p = p * f + 5.550328642129898e-2f;
        p = p * f + 0.24022646248340607f;
        p = p * f + 0.6931471824645996f;
        p = p * f + 1.0f;
        int32_t bits = ((int32_t)k + 127) << 23;
        float scale;
        memcpy(&scale, &bits, sizeof scale);
        return p * scale;
    }

    /* log(1 + t) for t in [0, 1]: y = 1 + t in [1, 2], log y = 2 atanh(s),
       s = (y - 1) / (y + 1) = t / (2 + t) in [0, 1/3], odd series to s^13
       (relative error < 1e-7).  Branch-free, so loops over it vectorise. */
    static inline __attribute__((always_inline)) float nb_log1p01(float t) {
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

    /* Eight floats, loaded and stored unaligned (GCC vector extension: one
       AVX register on x86-64-v3, two SSE registers on generic x86-64). */
    typedef float nb_v8 __attribute__((vector_size(32), aligned(4), may_alias));
    #define NB_LD(p) (*(const nb_v8 *)(p))
    #define NB_ST(p, v) (*(nb_v8 *)(p) = (v))
    typedef int32_t nb_v8i __attribute__((vector_size(32)));
    /* where m (all bits set or clear per lane) then a else b */
    static inline __attribute__((always_inline)) nb_v8 nb_sel(nb_v8i m, nb_v8 a, nb_v8 b) {
        return (nb_v8)(((nb_v8i)a & m) | ((nb_v8i)b & ~m));
    }
    /* nb_expf on eight lanes: the same operations in the same order */
    static inline __attribute__((always_inline)) nb_v8 nb_expv(nb_v8 x) {
        const nb_v8 lo = (nb_v8){0} - 87.0f, hi = (nb_v8){0} + 88.0f, magic = (nb_v8){0} + 12582912.0f;
        x = nb_sel(x < lo, lo, x);
        x = nb_sel(x > hi, hi, x);
        nb_v8 k = (x * 1.44269504088896341f + magic) - magic;
        nb_v8 r = x - k * 0.693359375f + k * 2.12194440e-4f;
        nb_v8 p = (nb_v8){0} + 1.9875691500E-4f;
        p = p * r + 1.3981999507E-3f;
        p = p * r + 8.3334519073E-3f;
        p = p * r + 4.1665795894E-2f;
        p = p * r + 1.6666665459E-1f;
        p = p * r + 5.0000001201E-1f;
        p = p * r * r + r + 1.0f;
        nb_v8i bits = (__builtin_convertvector(k, nb_v8i) + 127) << 23;
        return p * (nb_v8)bits;
    }
    /* x * sigmoid(x) */
    static inline __attribute__((always_inline)) nb_v8 nb_siluv(nb_v8 x) {
        return x / (1.0f + nb_expv(-x));
    }

    /* y[0 : 8K] += sum_i x[i] * W[i * ld + 0 : 8K]  (W input-major, ld a
       multiple of 8): K vectors of outputs held in registers for the whole
       pass, S interleaved input streams so that K * S independent FMA
       chains hide the FMA latency. */
    #define NB_GEMV_BLOCK(K, S) \
    static inline __attribute__((always_inline)) void nb_gemv_##K##x##S( \
            float *restrict y, const float *restrict x, const float *restrict W, int n_in, int ld) { \
        nb_v8 a[S][K]; \
        for (int s = 0; s < S; s++) for (int k = 0; k < K; k++) a[s][k] = (nb_v8){0}; \
        int i = 0; \
        for (; i + S <= n_in; i += S) \
            for (int s = 0; s < S; s++) { \
                const float v = x[i + s]; \
                const float *restrict row = W + (size_t)(i + s) * ld; \
                for (int k = 0; k < K; k++) a[s][k] += v * NB_LD(row + 8 * k); \
            } \
        for (; i < n_in; i++) { \
            const float v = x[i]; \
            const float *restrict row = W + (size_t)i * ld; \
            for (int k = 0; k < K; k++) a[0][k] += v * NB_LD(row + 8 * k); \
        } \
        for (int k = 0; k < K; k++) { \
            nb_v8 t = a[0][k]; \
            for (int s = 1; s < S; s++) t += a[s][k]; \
            NB_ST(y + 8 * k, NB_LD(y + 8 * k) + t); \
        } \
    }
    NB_GEMV_BLOCK(8, 1)
    NB_GEMV_BLOCK(4, 2)
    NB_GEMV_BLOCK(3, 4)
    NB_GEMV_BLOCK(2, 4)
    NB_GEMV_BLOCK(1, 8)

    /* y[0 : ld] += W^T x, W (n_in, ld) input-major, ld a multiple of 8.
       wide: AVX registers hold a vector of eight (explicit blocks); else
       SSE, where GCC spills vectors of eight to the stack, so plain loops. */
    static inline __attribute__((always_inline)) void nb_gemv(float *restrict y, const float *restrict x,
                                                              const float *restrict W, int n_in, int ld,
                                                              const int wide) {
        int j = 0;
        if (!wide) {                    /* plain loops: GCC's own SSE vectorisation */
            for (int i = 0; i < n_in; i++) {
                const float v = x[i];
                const float *restrict row = W + (size_t)i * ld;
                for (int k = 0; k < ld; k++) y[k] += v * row[k];
            }
            return;
        }
        for (; ld - j >= 64; j += 64) nb_gemv_8x1(y + j, x, W + j, n_in, ld);
        if (ld - j >= 32) { nb_gemv_4x2(y + j, x, W + j, n_in, ld); j += 32; }
        switch ((ld - j) / 8) {
            case 3: nb_gemv_3x4(y + j, x, W + j, n_in, ld); break;
            case 2: nb_gemv_2x4(y + j, x, W + j, n_in, ld); break;
            case 1: nb_gemv_1x8(y + j, x, W + j, n_in, ld); break;
            default: break;
        }
    }

    /* The model as the step runs it.  Channel counts are padded to a
       multiple of 8 (P = padded d_inner, RNP = padded dt_rank + 2 d_state,
       HP = padded 3 x horizons) with zero weights, which keep the padded
       channels at 0.  The linear maps with nothing non-linear between them
       are folded when the weights are loaded: embedding and input
       projection into one (F -> 2P), and the residual path, output
       projection and head into one map from (z, y) to the logits. */
    typedef struct {
        int F, P, N, K, R, RNP, H3, HP;
        float clip;
        const float *mean, *inv_std;
        const float *Wzx;       /* (F, 2P): x channels in [0, P), gate in [P, 2P) */
        const float *bzx;       /* (2P) */
        const float *conv_w;    /* (K, P): tap K-1 on the current input, tap k on conv_state[k] */
        const float *conv_b;    /* (P) */
        const float *Wx;        /* (P, RNP): dt (R), B (N), C (N) */
        const float *Wdt;       /* (R, P) */
        const float *b_dt;      /* (P) */
        const float *A2;        /* (N, P), A log2(e), A = -exp(A_log) */
        const float *Dskip;     /* (P) */
        const float *Wl;        /* (F + P, HP): logits from z (rows 0..F-1) and y */
        const float *bl;        /* (HP) */
        float *conv_state;      /* (K - 1, P), oldest first */
        float *h;               /* (N, P): state n of every channel contiguous */
        float *zy;              /* (F + P): z, then y */
        float *xg, *xc, *dbc, *dl, *lg, *dA;   /* scratch: (2P), (P), (RNP), (P), (HP), (N, P) */
    } nb_model;

    /* One tick: the logits of raw features x (F) into out (H3). */
    static inline __attribute__((always_inline)) void nb_step_body(
            const nb_model *restrict m, const double *restrict x, double *restrict out, const int wide) {
        const int F = m->F, P = m->P, N = m->N, K = m->K, R = m->R;
        float *restrict z = m->zy, *restrict y = m->zy + F;
        float *restrict xg = m->xg, *restrict xc = m->xc, *restrict dbc = m->dbc;
        float *restrict dl = m->dl, *restrict lg = m->lg, *restrict cs = m->conv_state;
        const float *restrict g = xg + P;
        const float clip = m->clip;
        for (int i = 0; i < F; i++) {
            float v = ((float)x[i] - m->mean[i]) * m->inv_std[i];
            v = v > clip ? clip : v;
            z[i] = v < -clip ? -clip : v;
        }
        memcpy(xg, m->bzx, 2 * (size_t)P * sizeof(float));
        nb_gemv(xg, z, m->Wzx, F, 2 * P, wide);
        /* causal depthwise convolution over the last K inputs, then SiLU;
           the window shifts by one input in the same pass */
        const float *restrict wc = m->conv_w + (size_t)(K - 1) * P;
        for (int c = 0; wide && c < P; c += 8) {
            const nb_v8 xv = NB_LD(xg + c);
            nb_v8 acc = NB_LD(m->conv_b + c) + NB_LD(wc + c) * xv;
            for (int k = 0; k < K - 1; k++) {
                const nb_v8 sv = NB_LD(cs + (size_t)k * P + c);
                acc += NB_LD(m->conv_w + (size_t)k * P + c) * sv;
                if (k > 0) NB_ST(cs + (size_t)(k - 1) * P + c, sv);
            }
            if (K > 1) NB_ST(cs + (size_t)(K - 2) * P + c, xv);
            NB_ST(xc + c, nb_siluv(acc));
        }
        for (int c = 0; !wide && c < P; c++) {
            float acc = m->conv_b[c] + wc[c] * xg[c];
            for (int k = 0; k < K - 1; k++) {
                const float sv = cs[(size_t)k * P + c];
                acc += m->conv_w[(size_t)k * P + c] * sv;
                if (k > 0) cs[(size_t)(k - 1) * P + c] = sv;
            }
            if (K > 1) cs[(size_t)(K - 2) * P + c] = xg[c];
            xc[c] = acc / (1.0f + nb_expf(-acc));
        }
        /* dt, B, C; then delta = softplus(W_dt dt + b_dt) (torch's threshold 20) */
        memset(dbc, 0, (size_t)m->RNP * sizeof(float));
        nb_gemv(dbc, xc, m->Wx, P, m->RNP, wide);
        memcpy(dl, m->b_dt, (size_t)P * sizeof(float));
        nb_gemv(dl, dbc, m->Wdt, R, P, wide);
        for (int c = 0; c < P; c++) {          /* delta = softplus(.), torch's threshold 20 */
            float v = dl[c];
            float a = v < 0.0f ? -v : v;
            float sp = (v > 0.0f ? v : 0.0f) + nb_log1p01(nb_expf(-a));
            dl[c] = v > 20.0f ? v : sp;
        }
        /* h <- exp(delta A) h + (delta x) B;  y = (C.h + D x) silu(g): the
           exponentials in one flat loop, then the update eight channels at
           a time with y in a register */
        const float *restrict Bm = dbc + R, *restrict Cm = dbc + R + N;
        for (int c = 0; c < P; c++) {
            y[c] = m->Dskip[c] * xc[c];
            xc[c] *= dl[c];                     /* xc is delta * x from here */
        }
        for (int n = 0; n < N; n++) {
            float *restrict hn = m->h + (size_t)n * P;
            const float *restrict an = m->A2 + (size_t)n * P;
            const float b = Bm[n], cc = Cm[n];
            for (int c = 0; c < P; c++) {
                float hv = nb_exp2f_le0(dl[c] * an[c]) * hn[c] + xc[c] * b;    /* delta >= 0, A < 0 */
                hn[c] = hv;
                y[c] += hv * cc;
            }
        }
        if (wide)
            for (int c = 0; c < P; c += 8) NB_ST(y + c, NB_LD(y + c) * nb_siluv(NB_LD(g + c)));
        else
            for (int c = 0; c < P; c++) y[c] *= g[c] / (1.0f + nb_expf(-g[c]));
        memcpy(lg, m->bl, (size_t)m->HP * sizeof(float));
        nb_gemv(lg, m->zy, m->Wl, F + P, m->HP, wide);
        for (int k = 0; k < m->H3; k++) out[k] = lg[k];
    }

    typedef void (*nb_step_fn)(const nb_model *, const double *, double *);
    static void nb_step_generic(const nb_model *m, const double *x, double *out) { nb_step_body(m, x, out, 0); }
    #if NB_DISPATCH
    __attribute__((target("arch=x86-64-v3")))
    static void nb_step_v3(const nb_model *m, const double *x, double *out) { nb_step_body(m, x, out, 1); }
    __attribute__((target("arch=x86-64-v4")))
    static void nb_step_v4(const nb_model *m, const double *x, double *out) { nb_step_body(m, x, out, 1); }
    #endif
    static nb_step_fn nb_step = nb_step_generic;

    /* the widest copy this CPU runs; returns its name */
    static const char *nb_step_select(void) {
    #if NB_DISPATCH
        __builtin_cpu_init();
        if (__builtin_cpu_supports("x86-64-v4")) { nb_step = nb_step_v4; return "x86-64-v4"; }
        if (__builtin_cpu_supports("x86-64-v3")) { nb_step = nb_step_v3; return "x86-64-v3"; }
    #endif
        nb_step = nb_step_generic;
        return "generic";
    }
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC pop_options
    #endif
    """
    float nb_expf(float x) noexcept nogil
    float nb_exp2f_le0(float x) noexcept nogil
    ctypedef struct nb_model:
        int F, P, N, K, R, RNP, H3, HP
        float clip
        const float *mean
        const float *inv_std
        const float *Wzx
        const float *bzx
        const float *conv_w
        const float *conv_b
        const float *Wx
        const float *Wdt
        const float *b_dt
        const float *A2
        const float *Dskip
        const float *Wl
        const float *bl
        float *conv_state
        float *h
        float *zy
        float *xg
        float *xc
        float *dbc
        float *dl
        float *lg
        float *dA
    void nb_step(const nb_model *m, const double *x, double *out) noexcept nogil
    const char *nb_step_select() noexcept nogil


#: which compiled copy of the step this CPU runs (x86-64-v4, x86-64-v3 or generic)
KERNEL = nb_step_select().decode()


def _expf(float x) -> float:
    """The step's exponential (for its accuracy test)."""
    return nb_expf(x)


def _exp2f_le0(float x) -> float:
    """The step's 2^x for x <= 0 (for its accuracy test)."""
    return nb_exp2f_le0(x)


cdef inline int _pad8(int n) noexcept:
    return (n + 7) // 8 * 8


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

    Notes
    -----
    The linear maps with nothing non-linear between them are folded when
    the weights are loaded (in float64, then rounded to float32): the
    embedding into the input projection, and the residual, output
    projection and head into one map from the normalised features and the
    gated SSM output to the logits.  The step computes the same function
    with ``step_flops`` instead of ``flops_per_tick`` operations per tick.
    """

    cdef readonly int n_features, d_model, d_inner, d_state, d_conv, dt_rank, n_horizons
    cdef readonly float clip
    cdef float *buf
    cdef nb_model m
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
        self.n_weights = (2 * F + F * D + D + D * 2 * Di + K * Di + Di + Di * (R + 2 * N) + R * Di + Di
                          + Di * N + Di + Di * D + D * H3 + H3)
        cdef int P = _pad8(Di), RNP = _pad8(R + 2 * N), HP = _pad8(H3)
        # the folded, padded weights (float64 products, rounded once to float32)
        d = {k: v.astype(np.float64) for k, v in w.items()}
        Wzx_full = d["W_in"] @ d["W_emb"]                         # (2 Di, F)
        Wzx = np.zeros((F, 2 * P))
        Wzx[:, :Di], Wzx[:, P:P + Di] = Wzx_full[:Di].T, Wzx_full[Di:].T
        bzx_full = d["W_in"] @ d["b_emb"]
        bzx = np.zeros(2 * P)
        bzx[:Di], bzx[P:P + Di] = bzx_full[:Di], bzx_full[Di:]

        def padded(a, shape):
            out = np.zeros(shape)
            out[tuple(slice(0, n) for n in a.shape)] = a
            return out
        Wl = np.zeros((F + P, HP))
        Wl[:F, :H3] = (d["W_head"] @ d["W_emb"]).T
        Wl[F:F + Di, :H3] = (d["W_head"] @ d["W_out"]).T
        parts = [d["mean"], d["inv_std"], Wzx, bzx, padded(d["conv_w"].T, (K, P)), padded(d["conv_b"], (P,)),
                 padded(d["W_x"].T, (P, RNP)), padded(d["W_dt"].T, (R, P)), padded(d["b_dt"], (P,)),
                 padded((-np.exp(d["A_log"]) * np.log2(np.e)).T, (N, P)), padded(d["D"], (P,)), Wl,
                 padded(d["W_head"] @ d["b_emb"] + d["b_head"], (HP,))]
        flat = np.concatenate([a.ravel() for a in parts]).astype(np.float32)
        n_folded = flat.shape[0]
        state = (K - 1) * P + N * P
        scratch = (F + P) + 2 * P + P + RNP + P + HP + N * P
        self.n_state = state
        free(self.buf)
        self.buf = NULL
        self.buf = <float *> malloc(max(n_folded + state + scratch, 1) * sizeof(float))
        if self.buf == NULL:
            raise MemoryError()
        cdef const float[::1] fv = flat
        memcpy(self.buf, &fv[0], n_folded * sizeof(float))
        cdef float *p = self.buf
        cdef int cF = F, cK = K, cN = N, cR = R
        self.m.F, self.m.P, self.m.N, self.m.K, self.m.R = cF, P, cN, cK, cR
        self.m.RNP, self.m.H3, self.m.HP, self.m.clip = RNP, H3, HP, clip
        self.m.mean = p; p += cF
        self.m.inv_std = p; p += cF
        self.m.Wzx = p; p += cF * 2 * P
        self.m.bzx = p; p += 2 * P
        self.m.conv_w = p; p += cK * P
        self.m.conv_b = p; p += P
        self.m.Wx = p; p += P * RNP
        self.m.Wdt = p; p += cR * P
        self.m.b_dt = p; p += P
        self.m.A2 = p; p += cN * P
        self.m.Dskip = p; p += P
        self.m.Wl = p; p += (cF + P) * HP
        self.m.bl = p; p += HP
        self.m.conv_state = p; p += (cK - 1) * P
        self.m.h = p; p += cN * P
        self.m.zy = p; p += cF + P
        self.m.xg = p; p += 2 * P
        self.m.xc = p; p += P
        self.m.dbc = p; p += RNP
        self.m.dl = p; p += P
        self.m.lg = p; p += HP
        self.m.dA = p; p += cN * P
        self.reset()

    @property
    def n_params(self) -> int:
        """Trainable parameters (normalisation statistics excluded)."""
        return int(self.n_weights - 2 * self.n_features)

    @property
    def flops_per_tick(self) -> int:
        """Floating-point operations per tick of the model as written: 2 per
        multiply-add of the matrix products and the convolution, 6 per SSM
        state element (delta*A, dA*h, delta*x*B, +, *C, +), plus the
        element-wise work; the ``d_inner * (d_state + 3)`` exponentials are
        counted as one each."""
        F, D, Di, N = self.n_features, self.d_model, self.d_inner, self.d_state
        K, R, H3 = self.d_conv, self.dt_rank, 3 * self.n_horizons
        mm = 2 * (F * D + D * 2 * Di + Di * (R + 2 * N) + R * Di + Di * D + D * H3)
        conv = 2 * K * Di
        ssm = Di * N * 6 + Di * N
        elem = 3 * F + Di * 12 + D
        return int(mm + conv + ssm + elem)

    @property
    def step_flops(self) -> int:
        """Floating-point operations per tick of the step, with the linear
        maps folded (counted as :attr:`flops_per_tick`, without padding)."""
        F, Di, N = self.n_features, self.d_inner, self.d_state
        K, R, H3 = self.d_conv, self.dt_rank, 3 * self.n_horizons
        mm = 2 * (F * 2 * Di + Di * (R + 2 * N) + R * Di + (F + Di) * H3)
        conv = 2 * K * Di
        ssm = Di * N * 6 + Di * N
        elem = 3 * F + Di * 12
        return int(mm + conv + ssm + elem)

    def reset(self) -> None:
        """Zero the carried state (convolution window and SSM state)."""
        memset(self.m.conv_state, 0, self.n_state * sizeof(float))

    def get_state(self):
        """Copies of the carried state: ``(conv_state (d_inner, d_conv - 1),
        ssm_state (d_inner, d_state))`` in the ONNX graph's layout."""
        Di, K, N, P = self.d_inner, self.d_conv, self.d_state, self.m.P
        cs = np.asarray(<float[:(K - 1) * P]> self.m.conv_state).reshape(K - 1, P)[:, :Di].T.copy() \
            if K > 1 else np.zeros((Di, 0), np.float32)
        h = np.asarray(<float[:N * P]> self.m.h).reshape(N, P)[:, :Di].T.copy()
        return cs, h

    def set_state(self, conv_state, ssm_state) -> None:
        """Load a carried state (the layouts of :meth:`get_state`)."""
        Di, K, N, P = self.d_inner, self.d_conv, self.d_state, self.m.P
        cs = np.ascontiguousarray(conv_state, dtype=np.float32)
        hs = np.ascontiguousarray(ssm_state, dtype=np.float32)
        if cs.shape != (Di, K - 1):
            raise ValueError(f"conv_state must have shape {(Di, K - 1)}, got {cs.shape}")
        if hs.shape != (Di, N):
            raise ValueError(f"ssm_state must have shape {(Di, N)}, got {hs.shape}")
        if K > 1:
            np.asarray(<float[:(K - 1) * P]> self.m.conv_state).reshape(K - 1, P)[:, :Di] = cs.T
        np.asarray(<float[:N * P]> self.m.h).reshape(N, P)[:, :Di] = hs.T

    def step(self, x, out=None):
        """Advance one tick on the raw feature vector ``x`` (n_features,);
        returns the logits ``(n_horizons, 3)`` (written into ``out`` when
        given, a float64 array of that shape).  A C-contiguous float64
        ``x`` and ``out`` take the fast path (no copy)."""
        cdef cnp.ndarray xa
        cdef cnp.ndarray oa
        cdef const double *xp
        cdef Py_ssize_t i
        if type(x) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray> x) == cnp.NPY_DOUBLE \
                and cnp.PyArray_NDIM(<cnp.ndarray> x) == 1 and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> x):
            xa = <cnp.ndarray> x
            if cnp.PyArray_DIM(xa, 0) != self.n_features:
                raise ValueError(f"x must have shape ({self.n_features},), got {x.shape}")
            xp = <const double *> cnp.PyArray_DATA(xa)
            for i in range(self.n_features):
                if not (xp[i] - xp[i] == 0.0):          # NaN or inf
                    raise ValueError(f"x must be finite, got {x.tolist()}")
        else:
            xa = self._features(x)
        if out is None:
            out = np.empty((self.n_horizons, 3))
        elif not isinstance(out, np.ndarray) or cnp.PyArray_TYPE(<cnp.ndarray> out) != cnp.NPY_DOUBLE \
                or cnp.PyArray_NDIM(<cnp.ndarray> out) != 2 \
                or cnp.PyArray_DIM(<cnp.ndarray> out, 0) != self.n_horizons \
                or cnp.PyArray_DIM(<cnp.ndarray> out, 1) != 3 \
                or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> out) \
                or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray> out):
            raise ValueError(f"out must be a C-contiguous float64 array of shape {(self.n_horizons, 3)}")
        oa = <cnp.ndarray> out
        nb_step(&self.m, <const double *> cnp.PyArray_DATA(xa), <double *> cnp.PyArray_DATA(oa))
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
        if a.shape[0] == 0:
            return out
        cdef const double *xp = <const double *> cnp.PyArray_DATA(a)
        cdef double *op = <double *> cnp.PyArray_DATA(out)
        cdef Py_ssize_t t, n = a.shape[0], F = self.n_features, H3 = 3 * self.n_horizons
        with nogil:
            for t in range(n):
                nb_step(&self.m, xp + t * F, op + t * H3)
        return out
