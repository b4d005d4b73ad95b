/*
 * Native CPU backend of networks.gsemm.simulate (backend="native").
 *
 * Plain C99 + optional OpenMP; no Python or torch headers. Built lazily by native.py and loaded with
 * ctypes. It runs the fixed-step loop of networks/gsemm/integrate.py (euler / joint rk4 / split) on
 * the full-space right-hand side of networks/gsemm/kernels.py:Dense, with the same operation order
 * per element, and records the same signals (overlaps, v, s, hidden, energy, F, S) into
 * caller-provided buffers of shape (T, B, ...).
 *
 *   T_f dv/dt = sqrt(a_s) Xi sigma_h(h) - v + I
 *   h         = sqrt(a_s) Xi^T sigma_f(v) + a_c Phi^T Xi^T s          (T_h = 0)
 *   T_h dh/dt = sqrt(a_s) Xi^T sigma_f(v) + a_c Phi^T Xi^T s - h      (T_h > 0)
 *   T_d ds/dt = beta_d sigma_f(v) - s
 *
 * Streams are independent, so the batch loop is the outer loop (OpenMP over streams) and each
 * stream runs all of its steps at once. Reductions use a fixed LANES-way split whose order does
 * not depend on the batch size or on the thread count: stream b of a batched run is bit-identical
 * to the same stream run alone.
 *
 * The file includes itself twice (double and float); every symbol of the body carries the suffix
 * _f64 or _f32.
 */
#ifndef GSEMM_BODY

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define GSEMM_ABI 2

/* Must match networks/gsemm/native.py:_Args field for field. */
typedef struct {
    int64_t B, N, P;
    int64_t xi_batched, phi_batched; /* 1: (B,P,N)/(B,P,P), 0: shared (P,N)/(P,P) */
    int64_t feature;                 /* 0 identity, 1 tanh(gain x) */
    int64_t hidden;                  /* 0 softmax(beta x), 1 identity, 2 max(scale x, 0)^degree */
    int64_t degree;
    int64_t method;                  /* 0 euler, 1 joint rk4, 2 split */
    int64_t steps, record_every;
    int64_t input_mode;              /* 0 none, 1 constant (B,N), 2 per step (steps,B,N) */
    int64_t nthreads;
    int64_t has_h;                   /* 1: T_h > 0 and h is a state (B,P) */
    double gain, beta, scale;
    double T_f, T_d, T_h, dt;
    const void *xi;                  /* Xi: (N,P) or (B,N,P) */
    const void *xiT;                 /* Xi transposed: (P,N) or (B,P,N) */
    const void *phi;                 /* (P,P) or (B,P,P), Phi[mu,nu] = 1 encodes mu -> nu */
    const void *sqrt_as, *alpha_c, *beta_d; /* (B,) each */
    void *v, *s, *h;                 /* state, updated in place: (B,N), (B,N), (B,P) or NULL */
    const void *inputs;
    void *rec_overlaps, *rec_v, *rec_s, *rec_hidden, *rec_energy, *rec_F, *rec_S; /* NULL = off */
} gsemm_args;

int64_t gsemm_abi_version(void) { return GSEMM_ABI; }
int64_t gsemm_args_size(void) { return (int64_t)sizeof(gsemm_args); }
int64_t gsemm_has_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

#define GSEMM_BODY 1

#define REAL double
#define FN(x) x##_f64
#define LANES 16
#define XB 32
#define EXP exp
#define LOG log
#define LOG1P log1p
#define TANH tanh
#define POW pow
#define FABS fabs
#include __FILE__
#undef REAL
#undef FN
#undef LANES
#undef XB
#undef EXP
#undef LOG
#undef LOG1P
#undef TANH
#undef POW
#undef FABS

#define REAL float
#define FN(x) x##_f32
#define LANES 32
#define XB 64
#define EXP expf
#define LOG logf
#define LOG1P log1pf
#define TANH tanhf
#define POW powf
#define FABS fabsf
#include __FILE__

#else /* ------------------------------------------------------------------- body, per REAL type */

/* Context of a group of G streams that share the weights (G = 1 with per-stream weights): the
 * group's rows of v, s, h and of the inputs are contiguous (G,N)/(G,P) slabs. Coefficients are cast
 * to REAL as torch casts Python scalars. */
typedef struct {
    int64_t N, P, G;
    const REAL *xi, *xiT, *phi;
    const REAL *sa, *ac, *bd;          /* per stream of the group */
    int feature, hidden, degree;
    REAL gain, beta, scale, T_f, T_d, T_h;
    REAL *g, *q;                       /* G*N scratch */
    REAL *t, *t2, *hh, *p, *y;         /* G*P scratch */
} FN(ctx);

/* a . b with a fixed LANES-way split (vectorises without reassociation flags). */
static REAL FN(dot)(const REAL *restrict a, const REAL *restrict b, int64_t n) {
    REAL acc[LANES];
    for (int k = 0; k < LANES; k++) acc[k] = 0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) acc[k] += a[i + k] * b[i + k];
    for (int k = 0; i + k < n; k++) acc[k] += a[i + k] * b[i + k];
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) acc[k] += acc[k + w];
    return acc[0];
}

/* Four dots a . x_r (x_r = x + r*n, r < 4) sharing the loads of a; each one bit-identical to dot(). */
static void FN(dot4)(const REAL *restrict a, const REAL *restrict x, int64_t n, REAL *restrict out,
                     int64_t ostride) {
    const REAL *restrict x0 = x, *restrict x1 = x + n, *restrict x2 = x + 2 * n, *restrict x3 = x + 3 * n;
    REAL a0[LANES], a1[LANES], a2[LANES], a3[LANES];
    for (int k = 0; k < LANES; k++) a0[k] = a1[k] = a2[k] = a3[k] = 0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            const REAL ak = a[i + k];
            a0[k] += ak * x0[i + k];
            a1[k] += ak * x1[i + k];
            a2[k] += ak * x2[i + k];
            a3[k] += ak * x3[i + k];
        }
    for (int k = 0; i + k < n; k++) {
        const REAL ak = a[i + k];
        a0[k] += ak * x0[i + k];
        a1[k] += ak * x1[i + k];
        a2[k] += ak * x2[i + k];
        a3[k] += ak * x3[i + k];
    }
    for (int w = LANES / 2; w > 0; w /= 2)
        for (int k = 0; k < w; k++) {
            a0[k] += a0[k + w];
            a1[k] += a1[k + w];
            a2[k] += a2[k + w];
            a3[k] += a3[k + w];
        }
    out[0] = a0[0];
    out[ostride] = a1[0];
    out[2 * ostride] = a2[0];
    out[3 * ostride] = a3[0];
}

/* Xi^T x for wide P (P >= XB/4), from Xi (N,P): out[p] = sum_n x[n] xi[n,p] in n order, p in register
 * blocks of XB; R (1..4) streams share the loads of Xi; every row bit-identical to the R = 1 result. */
static void FN(xtn)(const REAL *restrict xi, const REAL *restrict X, REAL *restrict out, int64_t N, int64_t P,
                    int R) {
    int64_t p0 = 0;
    if (R == 4) {
        for (; p0 + XB <= P; p0 += XB) {
            REAL a0[XB], a1[XB], a2[XB], a3[XB];
            for (int k = 0; k < XB; k++) a0[k] = a1[k] = a2[k] = a3[k] = 0;
            for (int64_t n = 0; n < N; n++) {
                const REAL x0 = X[n], x1 = X[N + n], x2 = X[2 * N + n], x3 = X[3 * N + n];
                const REAL *restrict row = xi + n * P + p0;
                for (int k = 0; k < XB; k++) {
                    a0[k] += x0 * row[k];
                    a1[k] += x1 * row[k];
                    a2[k] += x2 * row[k];
                    a3[k] += x3 * row[k];
                }
            }
            for (int k = 0; k < XB; k++) {
                out[p0 + k] = a0[k];
                out[P + p0 + k] = a1[k];
                out[2 * P + p0 + k] = a2[k];
                out[3 * P + p0 + k] = a3[k];
            }
        }
    }
    for (int r = 0; r < R; r++) {
        const REAL *restrict x = X + r * N;
        REAL *restrict o = out + r * P;
        int64_t q0 = p0;
        for (; q0 + XB <= P; q0 += XB) {
            REAL acc[XB];
            for (int k = 0; k < XB; k++) acc[k] = 0;
            for (int64_t n = 0; n < N; n++) {
                const REAL xn = x[n];
                const REAL *restrict row = xi + n * P + q0;
                for (int k = 0; k < XB; k++) acc[k] += xn * row[k];
            }
            for (int k = 0; k < XB; k++) o[q0 + k] = acc[k];
        }
        if (q0 < P) {
            for (int64_t p = q0; p < P; p++) o[p] = 0;
            for (int64_t n = 0; n < N; n++) {
                const REAL xn = x[n];
                const REAL *restrict row = xi + n * P;
                for (int64_t p = q0; p < P; p++) o[p] += xn * row[p];
            }
        }
    }
}

/* out (G,P) = X (G,N) Xi, i.e. Xi^T x per stream. Narrow P: LANES-split dots over the rows of xiT (P,N);
 * wide P: xtn over xi (N,P). The choice depends on P only, so results do not depend on the grouping. */
static void FN(xt)(const FN(ctx) *c, const REAL *restrict X, REAL *restrict out, int64_t G) {
    const int64_t N = c->N, P = c->P;
    if (4 * P >= XB) {
        int64_t g = 0;
        for (; g + 4 <= G; g += 4) FN(xtn)(c->xi, X + g * N, out + g * P, N, P, 4);
        for (; g < G; g++) FN(xtn)(c->xi, X + g * N, out + g * P, N, P, 1);
        return;
    }
    for (int64_t p = 0; p < P; p++) {
        const REAL *a = c->xiT + p * N;
        int64_t g = 0;
        for (; g + 4 <= G; g += 4) FN(dot4)(a, X + g * N, N, out + g * P + p, P);
        for (; g < G; g++) out[g * P + p] = FN(dot)(a, X + g * N, N);
    }
}

/* out (N) = Xi q: out[n] = sum_p q[p] xiT[p,n], summed in p order, in register blocks of XB. */
static void FN(xm1)(const REAL *restrict xiT, const REAL *restrict q, REAL *restrict out, int64_t N, int64_t P,
                    int64_t n0) {
    for (; n0 + XB <= N; n0 += XB) {
        REAL acc[XB];
        const REAL q0 = q[0];
        for (int k = 0; k < XB; k++) acc[k] = q0 * xiT[n0 + k];
        for (int64_t p = 1; p < P; p++) {
            const REAL qp = q[p];
            const REAL *restrict row = xiT + p * N + n0;
            for (int k = 0; k < XB; k++) acc[k] += qp * row[k];
        }
        for (int k = 0; k < XB; k++) out[n0 + k] = acc[k];
    }
    if (n0 < N) {
        for (int64_t n = n0; n < N; n++) out[n] = q[0] * xiT[n];
        for (int64_t p = 1; p < P; p++) {
            const REAL qp = q[p];
            const REAL *restrict row = xiT + p * N;
            for (int64_t n = n0; n < N; n++) out[n] += qp * row[n];
        }
    }
}

/* Four streams at once (q: 4 rows of stride P, out: 4 rows of stride N), sharing the loads of Xi;
 * each row bit-identical to xm1(). */
static void FN(xm4)(const REAL *restrict xiT, const REAL *restrict q, REAL *restrict out, int64_t N, int64_t P) {
    int64_t n0 = 0;
    for (; n0 + XB <= N; n0 += XB) {
        REAL a0[XB], a1[XB], a2[XB], a3[XB];
        {
            const REAL q0 = q[0], q1 = q[P], q2 = q[2 * P], q3 = q[3 * P];
            const REAL *restrict row = xiT + n0;
            for (int k = 0; k < XB; k++) {
                a0[k] = q0 * row[k];
                a1[k] = q1 * row[k];
                a2[k] = q2 * row[k];
                a3[k] = q3 * row[k];
            }
        }
        for (int64_t p = 1; p < P; p++) {
            const REAL q0 = q[p], q1 = q[P + p], q2 = q[2 * P + p], q3 = q[3 * P + p];
            const REAL *restrict row = xiT + p * N + n0;
            for (int k = 0; k < XB; k++) {
                a0[k] += q0 * row[k];
                a1[k] += q1 * row[k];
                a2[k] += q2 * row[k];
                a3[k] += q3 * row[k];
            }
        }
        for (int k = 0; k < XB; k++) {
            out[n0 + k] = a0[k];
            out[N + n0 + k] = a1[k];
            out[2 * N + n0 + k] = a2[k];
            out[3 * N + n0 + k] = a3[k];
        }
    }
    if (n0 < N)
        for (int r = 0; r < 4; r++) FN(xm1)(xiT, q + r * P, out + r * N, N, P, n0);
}

/* out (G,N) = Q (G,P) Xi^T, i.e. Xi q per stream. */
static void FN(xm)(const REAL *restrict xiT, const REAL *restrict Q, REAL *restrict out, int64_t N, int64_t P,
                   int64_t G) {
    int64_t g = 0;
    for (; g + 4 <= G; g += 4) FN(xm4)(xiT, Q + g * P, out + g * N, N, P);
    for (; g < G; g++) FN(xm1)(xiT, Q + g * P, out + g * N, N, P, 0);
}

/* out = Phi^T y: out[nu] = sum_mu Phi[mu,nu] y[mu]. */
static void FN(phi_t)(const REAL *restrict phi, const REAL *restrict y, REAL *restrict out, int64_t P) {
    for (int64_t nu = 0; nu < P; nu++) out[nu] = phi[nu] * y[0];
    for (int64_t mu = 1; mu < P; mu++) {
        const REAL ym = y[mu];
        const REAL *restrict row = phi + mu * P;
        for (int64_t nu = 0; nu < P; nu++) out[nu] += row[nu] * ym;
    }
}

/* out = Phi p: out[mu] = sum_nu Phi[mu,nu] p[nu]. */
static void FN(phi_m)(const REAL *restrict phi, const REAL *restrict p, REAL *restrict out, int64_t P) {
    for (int64_t mu = 0; mu < P; mu++) out[mu] = FN(dot)(phi + mu * P, p, P);
}

static REAL FN(powi)(REAL r, int d) {
    switch (d) {
    case 1: return r;
    case 2: return r * r;
    case 3: return r * r * r;
    default: return POW(r, (REAL)d);
    }
}

/* sigma_f(x) over n entries; identity returns x itself. */
static const REAL *FN(act_f)(const FN(ctx) *c, const REAL *x, REAL *buf, int64_t n) {
    if (c->feature == 0) return x;
    for (int64_t i = 0; i < n; i++) buf[i] = TANH(c->gain * x[i]);
    return buf;
}

/* sigma_h(x) over P units (one stream). */
static void FN(act_h)(const FN(ctx) *c, const REAL *restrict x, REAL *restrict out) {
    const int64_t P = c->P;
    if (c->hidden == 0) {
        REAL m = -INFINITY;
        for (int64_t i = 0; i < P; i++) {
            const REAL y = c->beta * x[i];
            out[i] = y;
            if (y > m) m = y;
        }
        REAL sum = 0;
        for (int64_t i = 0; i < P; i++) {
            const REAL e = EXP(out[i] - m);
            out[i] = e;
            sum += e;
        }
        const REAL inv = (REAL)1 / sum;
        for (int64_t i = 0; i < P; i++) out[i] *= inv;
    } else if (c->hidden == 1) {
        for (int64_t i = 0; i < P; i++) out[i] = x[i];
    } else {
        for (int64_t i = 0; i < P; i++) {
            REAL r = c->scale * x[i];
            r = r > 0 ? r : 0;
            out[i] = FN(powi)(r, c->degree);
        }
    }
}

/* L_h(x) (one stream) */
static REAL FN(value_h)(const FN(ctx) *c, const REAL *x) {
    const int64_t P = c->P;
    if (c->hidden == 0) {
        REAL m = -INFINITY;
        for (int64_t i = 0; i < P; i++) {
            const REAL y = c->beta * x[i];
            if (y > m) m = y;
        }
        REAL sum = 0;
        for (int64_t i = 0; i < P; i++) sum += EXP(c->beta * x[i] - m);
        return (m + LOG(sum)) / c->beta;
    } else if (c->hidden == 1) {
        REAL acc = 0;
        for (int64_t i = 0; i < P; i++) acc += x[i] * x[i];
        return (REAL)0.5 * acc;
    } else {
        REAL acc = 0;
        for (int64_t i = 0; i < P; i++) {
            REAL r = c->scale * x[i];
            r = r > 0 ? r : 0;
            acc += FN(powi)(r, c->degree + 1);
        }
        return acc / (c->scale * (REAL)(c->degree + 1));
    }
}

/* u^T (Hess L_h)(x) u with p = sigma_h(x) (one stream) */
static REAL FN(hq_h)(const FN(ctx) *c, const REAL *x, const REAL *p, const REAL *u) {
    const int64_t P = c->P;
    REAL acc = 0;
    if (c->hidden == 0) {
        REAL pu = 0;
        for (int64_t i = 0; i < P; i++) pu += p[i] * u[i];
        for (int64_t i = 0; i < P; i++) acc += u[i] * (c->beta * (p[i] * u[i] - p[i] * pu));
    } else if (c->hidden == 1) {
        for (int64_t i = 0; i < P; i++) acc += u[i] * u[i];
    } else {
        const REAL ds = (REAL)((double)c->degree * (double)c->scale);
        for (int64_t i = 0; i < P; i++) {
            REAL r = c->scale * x[i];
            r = r > 0 ? r : 0;
            const REAL d = c->degree == 1 ? (REAL)(r > 0) : FN(powi)(r, c->degree - 1);
            acc += u[i] * (ds * d * u[i]);
        }
    }
    return acc;
}

/* v^T sigma_f(v) - L_f(v) with g = sigma_f(v) (one stream) */
static REAL FN(legendre_f)(const FN(ctx) *c, const REAL *v, const REAL *g) {
    const int64_t N = c->N;
    if (c->feature == 0) {
        const REAL vv = FN(dot)(v, v, N);
        return vv - (REAL)0.5 * vv;
    }
    REAL xg = FN(dot)(v, g, N), val = 0;
    const REAL log2 = (REAL)0.6931471805599453;
    for (int64_t i = 0; i < N; i++) {
        const REAL a = FABS(c->gain * v[i]);
        const REAL ac = a < (REAL)20 ? a : (REAL)20; /* as LogCosh.value: no subnormal exp(-2a) */
        val += a + LOG1P(EXP((REAL)-2 * ac)) - log2;
    }
    return xg - val / c->gain;
}

/* cross = a_c Phi^T Xi^T s for the group: S (G,N) -> out (G,P) */
static void FN(cross)(FN(ctx) *c, const REAL *S, REAL *out) {
    const int64_t P = c->P;
    FN(xt)(c, S, c->t2, c->G);
    for (int64_t g = 0; g < c->G; g++) {
        FN(phi_t)(c->phi, c->t2 + g * P, c->y + g * P, P);
        const REAL ac = c->ac[g];
        for (int64_t i = 0; i < P; i++) out[g * P + i] = ac * c->y[g * P + i];
    }
}

/* hh = sqrt(a_s) Xi^T sigma_f(v) + cross for the group (leaves Xi^T sigma_f(v) in c->t); returns sigma_f(v) */
static const REAL *FN(hidden_in)(FN(ctx) *c, const REAL *V, const REAL *cross, REAL *hh) {
    const int64_t P = c->P;
    const REAL *g = FN(act_f)(c, V, c->g, c->G * c->N);
    FN(xt)(c, g, c->t, c->G);
    for (int64_t k = 0; k < c->G; k++) {
        const REAL sa = c->sa[k];
        for (int64_t i = 0; i < P; i++) hh[k * P + i] = sa * c->t[k * P + i] + cross[k * P + i];
    }
    return g;
}

/* (dv/dt, dh/dt) with the slow population frozen (kernels.Dense.fast), for the group */
static void FN(fast)(FN(ctx) *c, const REAL *V, const REAL *H, const REAL *cross, const REAL *inp,
                     REAL *restrict dv, REAL *restrict dh) {
    const int64_t N = c->N, P = c->P, G = c->G;
    FN(hidden_in)(c, V, cross, c->hh);
    for (int64_t k = 0; k < G; k++) {
        if (!H) {
            FN(act_h)(c, c->hh + k * P, c->p + k * P);
        } else {
            FN(act_h)(c, H + k * P, c->p + k * P);
            for (int64_t i = k * P; i < (k + 1) * P; i++) dh[i] = (c->hh[i] - H[i]) / c->T_h;
        }
    }
    FN(xm)(c->xiT, c->p, c->q, N, P, G);
    const REAL T_f = c->T_f;
    for (int64_t k = 0; k < G; k++) {
        const REAL sa = c->sa[k];
        const int64_t o = k * N;
        if (inp) {
            for (int64_t i = o; i < o + N; i++) dv[i] = (sa * c->q[i] - V[i] + inp[i]) / T_f;
        } else {
            for (int64_t i = o; i < o + N; i++) dv[i] = (sa * c->q[i] - V[i]) / T_f;
        }
    }
}

/* ds/dt = (beta_d sigma_f(v) - s) / T_d for the group */
static void FN(slow)(FN(ctx) *c, const REAL *V, const REAL *S, REAL *restrict ds) {
    const int64_t N = c->N;
    const REAL *g = FN(act_f)(c, V, c->g, c->G * N);
    for (int64_t k = 0; k < c->G; k++) {
        const REAL bd = c->bd[k];
        for (int64_t i = k * N; i < (k + 1) * N; i++) ds[i] = (bd * g[i] - S[i]) / c->T_d;
    }
}

/* A one-stream view of stream k of the group. */
static FN(ctx) FN(view)(const FN(ctx) *c, int64_t k) {
    FN(ctx) o = *c;
    o.G = 1;
    o.sa += k;
    o.ac += k;
    o.bd += k;
    o.g += k * c->N;
    o.q += k * c->N;
    o.t += k * c->P;
    o.t2 += k * c->P;
    o.hh += k * c->P;
    o.p += k * c->P;
    o.y += k * c->P;
    return o;
}

/* Recorded signals of one stream (c is a one-stream view) at sample j (kernels.Dense.signals). */
static void FN(record)(FN(ctx) *c, const gsemm_args *a, int64_t j, int64_t b, const REAL *v, const REAL *s,
                       const REAL *h, const REAL *inp, REAL *w_n, REAL *w_p1, REAL *w_p2, REAL *w_p3) {
    const int64_t N = c->N, P = c->P, B = a->B;
    const int64_t rowN = (j * B + b) * N, rowP = (j * B + b) * P, row1 = j * B + b;
    if (a->rec_v) memcpy((REAL *)a->rec_v + rowN, v, (size_t)N * sizeof(REAL));
    if (a->rec_s) memcpy((REAL *)a->rec_s + rowN, s, (size_t)N * sizeof(REAL));
    if (a->rec_overlaps) {
        REAL *o = (REAL *)a->rec_overlaps + rowP;
        FN(xt)(c, v, o, 1);
        for (int64_t i = 0; i < P; i++) o[i] = o[i] / (REAL)N;
    }
    if (!(a->rec_hidden || a->rec_energy || a->rec_F || a->rec_S)) return;
    const REAL sa = c->sa[0], ac = c->ac[0], bd = c->bd[0];
    REAL *cr = w_p1, *hh = w_p2, *p = w_p3;
    FN(cross)(c, s, cr);
    const REAL *g = FN(hidden_in)(c, v, cr, hh); /* c->t = Xi^T g */
    FN(act_h)(c, h ? h : hh, p);
    if (a->rec_hidden) memcpy((REAL *)a->rec_hidden + rowP, p, (size_t)P * sizeof(REAL));
    if (a->rec_energy) {
        REAL e = FN(legendre_f)(c, v, g);
        if (!h) {
            e = e - FN(value_h)(c, hh);
        } else {
            REAL hp = 0, t1 = 0, t2 = 0;
            for (int64_t i = 0; i < P; i++) hp += h[i] * p[i];
            e = e + (hp - FN(value_h)(c, h));
            for (int64_t i = 0; i < P; i++) t1 += sa * (c->t[i] * p[i]);
            e = e - t1;
            FN(xt)(c, s, c->t2, 1);
            FN(phi_m)(c->phi, p, c->y, P);
            for (int64_t i = 0; i < P; i++) t2 += ac * (c->t2[i] * c->y[i]);
            e = e - t2;
        }
        if (inp) e = e - FN(dot)(g, inp, N);
        ((REAL *)a->rec_energy)[row1] = e;
    }
    if (a->rec_F) {
        /* flow: dv = (sqrt(a_s) Xi p - v + I)/T_f, dh = (hh - h)/T_h */
        FN(xm)(c->xiT, p, c->q, N, P, 1);
        for (int64_t i = 0; i < N; i++) {
            REAL d = sa * c->q[i] - v[i];
            if (inp) d = d + inp[i];
            w_n[i] = d / c->T_f;
        }
        REAL hq;
        if (c->feature == 0) {
            hq = FN(dot)(w_n, w_n, N);
        } else {
            hq = 0;
            for (int64_t i = 0; i < N; i++) {
                const REAL t = TANH(c->gain * v[i]);
                hq += w_n[i] * (c->gain * ((REAL)1 - t * t) * w_n[i]);
            }
        }
        REAL F = -c->T_f * hq;
        if (h) {
            for (int64_t i = 0; i < P; i++) c->y[i] = (hh[i] - h[i]) / c->T_h;
            F = F - c->T_h * FN(hq_h)(c, h, p, c->y);
        }
        ((REAL *)a->rec_F)[row1] = F;
    }
    if (a->rec_S) {
        /* S = -sum(a_c (Xi Phi p) * ds), ds = (beta_d g - s)/T_d */
        FN(phi_m)(c->phi, p, c->y, P);
        FN(xm)(c->xiT, c->y, c->q, N, P, 1);
        REAL acc = 0;
        for (int64_t i = 0; i < N; i++) {
            const REAL ds = (bd * g[i] - s[i]) / c->T_d;
            acc += ac * (c->q[i] * ds);
        }
        ((REAL *)a->rec_S)[row1] = -acc;
    }
}

/* Input rows of the group starting at stream b0 at step i (a (G,N) slab), or NULL. */
static const REAL *FN(input_at)(const gsemm_args *a, int64_t i, int64_t b0) {
    if (a->input_mode == 0) return NULL;
    if (a->input_mode == 1) return (const REAL *)a->inputs + b0 * a->N;
    return (const REAL *)a->inputs + (i * a->B + b0) * a->N;
}

/* All steps of streams b0 .. b0+G-1. Returns 0, or 1 when scratch memory cannot be allocated. */
static int FN(run_group)(const gsemm_args *a, int64_t b0, int64_t G) {
    const int64_t N = a->N, P = a->P, GN = G * N, GP = G * P;
    FN(ctx) c;
    c.N = N;
    c.P = P;
    c.G = G;
    c.xi = (const REAL *)a->xi + (a->xi_batched ? b0 * P * N : 0);
    c.xiT = (const REAL *)a->xiT + (a->xi_batched ? b0 * P * N : 0);
    c.phi = (const REAL *)a->phi + (a->phi_batched ? b0 * P * P : 0);
    c.sa = (const REAL *)a->sqrt_as + b0;
    c.ac = (const REAL *)a->alpha_c + b0;
    c.bd = (const REAL *)a->beta_d + b0;
    c.feature = (int)a->feature;
    c.hidden = (int)a->hidden;
    c.degree = (int)a->degree;
    c.gain = (REAL)a->gain;
    c.beta = (REAL)a->beta;
    c.scale = (REAL)a->scale;
    c.T_f = (REAL)a->T_f;
    c.T_d = (REAL)a->T_d;
    c.T_h = (REAL)a->T_h;

    enum { NN = 12, NP = 16 };
    REAL *mem = (REAL *)malloc((size_t)(NN * GN + NP * GP) * sizeof(REAL));
    if (!mem) return 1;
    REAL *wn[NN], *wp[NP];
    for (int k = 0; k < NN; k++) wn[k] = mem + k * GN;
    for (int k = 0; k < NP; k++) wp[k] = mem + NN * GN + k * GP;
    c.g = wn[0];
    c.q = wn[1];
    c.t = wp[0];
    c.t2 = wp[1];
    c.hh = wp[2];
    c.p = wp[3];
    c.y = wp[4];
    REAL *k1v = wn[2], *k2v = wn[3], *k3v = wn[4], *k4v = wn[5], *vt = wn[6];
    REAL *k1s = wn[7], *k2s = wn[8], *k3s = wn[9], *k4s = wn[10], *st = wn[11];
    REAL *cr = wp[5], *k1h = wp[6], *k2h = wp[7], *k3h = wp[8], *k4h = wp[9], *ht = wp[10];
    REAL *rp1 = wp[11], *rp2 = wp[12], *rp3 = wp[13];

    REAL *v = (REAL *)a->v + b0 * N;
    REAL *s = (REAL *)a->s + b0 * N;
    REAL *h = a->has_h ? (REAL *)a->h + b0 * P : NULL;
    if (!h) { k1h = k2h = k3h = k4h = ht = NULL; }

    const double dtd = a->dt;
    const REAL dt = (REAL)dtd, hdt = (REAL)(0.5 * dtd), dt6 = (REAL)(dtd / 6);
    const double ad = dtd / a->T_d;
    const REAL fac = (REAL)(1 - ad / 2 + ad * ad / 6 - ad * ad * ad / 24);
    const int rec = a->rec_overlaps || a->rec_v || a->rec_s || a->rec_hidden || a->rec_energy || a->rec_F || a->rec_S;
    const int64_t steps = a->steps, every = a->record_every;

#define GSEMM_RECORD(J, INP)                                                                                   \
    for (int64_t k = 0; k < G; k++) {                                                                          \
        FN(ctx) one = FN(view)(&c, k);                                                                        \
        const REAL *in_k = (INP) ? (INP) + k * N : NULL;                                                        \
        FN(record)(&one, a, (J), b0 + k, v + k * N, s + k * N, h ? h + k * P : NULL, in_k, vt + k * N,         \
                   rp1 + k * P, rp2 + k * P, rp3 + k * P);                                                     \
    }

    if (rec) {
        const REAL *inp0 = steps > 0 ? FN(input_at)(a, 0, b0) : NULL;
        GSEMM_RECORD(0, inp0)
    }

    for (int64_t it = 0; it < steps; it++) {
        const REAL *inp = FN(input_at)(a, it, b0);
        if (a->method == 0) { /* euler */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < GN; i++) v[i] = v[i] + dt * k1v[i];
            for (int64_t i = 0; i < GN; i++) s[i] = s[i] + dt * k1s[i];
            if (h) for (int64_t i = 0; i < GP; i++) h[i] = h[i] + dt * k1h[i];
        } else if (a->method == 2) { /* split: RK4 on (v, h) with s frozen, exact RK4 factor on s */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + hdt * k1v[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + hdt * k1h[i];
            FN(fast)(&c, vt, ht, cr, inp, k2v, k2h);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + hdt * k2v[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + hdt * k2h[i];
            FN(fast)(&c, vt, ht, cr, inp, k3v, k3h);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + dt * k3v[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + dt * k3h[i];
            FN(fast)(&c, vt, ht, cr, inp, k4v, k4h);
            for (int64_t i = 0; i < GN; i++)
                v[i] = v[i] + dt6 * (k1v[i] + (REAL)2 * k2v[i] + (REAL)2 * k3v[i] + k4v[i]);
            if (h)
                for (int64_t i = 0; i < GP; i++)
                    h[i] = h[i] + dt6 * (k1h[i] + (REAL)2 * k2h[i] + (REAL)2 * k3h[i] + k4h[i]);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < GN; i++) s[i] = s[i] + dt * k1s[i] * fac;
        } else { /* joint rk4 */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + hdt * k1v[i];
            for (int64_t i = 0; i < GN; i++) st[i] = s[i] + hdt * k1s[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + hdt * k1h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k2v, k2h);
            FN(slow)(&c, vt, st, k2s);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + hdt * k2v[i];
            for (int64_t i = 0; i < GN; i++) st[i] = s[i] + hdt * k2s[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + hdt * k2h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k3v, k3h);
            FN(slow)(&c, vt, st, k3s);
            for (int64_t i = 0; i < GN; i++) vt[i] = v[i] + dt * k3v[i];
            for (int64_t i = 0; i < GN; i++) st[i] = s[i] + dt * k3s[i];
            if (h) for (int64_t i = 0; i < GP; i++) ht[i] = h[i] + dt * k3h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k4v, k4h);
            FN(slow)(&c, vt, st, k4s);
            for (int64_t i = 0; i < GN; i++)
                v[i] = v[i] + dt6 * (k1v[i] + (REAL)2 * k2v[i] + (REAL)2 * k3v[i] + k4v[i]);
            for (int64_t i = 0; i < GN; i++)
                s[i] = s[i] + dt6 * (k1s[i] + (REAL)2 * k2s[i] + (REAL)2 * k3s[i] + k4s[i]);
            if (h)
                for (int64_t i = 0; i < GP; i++)
                    h[i] = h[i] + dt6 * (k1h[i] + (REAL)2 * k2h[i] + (REAL)2 * k3h[i] + k4h[i]);
        }
        if (rec && (it + 1) % every == 0) {
            GSEMM_RECORD((it + 1) / every, inp)
        }
    }
#undef GSEMM_RECORD
    free(mem);
    return 0;
}

/* Entry point: runs every stream; returns 0 on success, 1 on allocation failure. Streams sharing the
 * weights run in groups of up to 4 (one pass over Xi serves the whole group). */
int64_t FN(gsemm_run)(const gsemm_args *a) {
    int64_t fail = 0;
    const int64_t B = a->B;
    const int64_t nt = a->nthreads < 1 ? 1 : (a->nthreads > B ? B : a->nthreads);
    int64_t G = 1;
    if (!a->xi_batched && !a->phi_batched) {
        G = (B + nt - 1) / nt;
        if (G > 4) G = 4;
    }
    const int64_t ngroups = (B + G - 1) / G;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads((int)nt) reduction(| : fail) if (nt > 1)
#endif
    for (int64_t k = 0; k < ngroups; k++) {
        const int64_t b0 = k * G;
        fail |= FN(run_group)(a, b0, B - b0 < G ? B - b0 : G);
    }
    return fail;
}

#endif /* GSEMM_BODY */
