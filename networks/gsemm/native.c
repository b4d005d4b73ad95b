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

#define GSEMM_ABI 1

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

/* Per-stream context: weights, coefficients (cast to REAL as torch casts Python scalars) and
 * scratch vectors. */
typedef struct {
    int64_t N, P;
    const REAL *xiT, *phi;
    REAL sa, ac, bd;
    int feature, hidden, degree, has_h;
    REAL gain, beta, scale, T_f, T_d, T_h;
    REAL *g, *t, *t2, *hh, *p, *q, *y; /* g,q: N; t,t2,hh,p,y: P */
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

/* out = Xi^T x  (P),  xiT is (P,N). */
static void FN(xt)(const REAL *restrict xiT, const REAL *restrict x, REAL *restrict out, int64_t N, int64_t P) {
    for (int64_t p = 0; p < P; p++) out[p] = FN(dot)(xiT + p * N, x, N);
}

/* out = Xi q  (N): out[n] = sum_p q[p] xiT[p,n], summed in p order, in register blocks of XB. */
static void FN(xm)(const REAL *restrict xiT, const REAL *restrict q, REAL *restrict out, int64_t N, int64_t P) {
    int64_t n0 = 0;
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

/* sigma_f(x); identity returns x itself. */
static const REAL *FN(act_f)(const FN(ctx) *c, const REAL *x, REAL *buf, int64_t n) {
    if (c->feature == 0) return x;
    for (int64_t i = 0; i < n; i++) buf[i] = TANH(c->gain * x[i]);
    return buf;
}

/* sigma_h(x) over P units. */
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

/* L_h(x) */
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

/* u^T (Hess L_h)(x) u, p = sigma_h(x) */
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

/* L_f Legendre term v^T sigma_f(v) - L_f(v), g = sigma_f(v) */
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
        val += a + LOG1P(EXP((REAL)-2 * a)) - log2;
    }
    return xg - val / c->gain;
}

/* cross = a_c Phi^T Xi^T s */
static void FN(cross)(FN(ctx) *c, const REAL *s, REAL *out) {
    FN(xt)(c->xiT, s, c->t2, c->N, c->P);
    FN(phi_t)(c->phi, c->t2, c->y, c->P);
    for (int64_t i = 0; i < c->P; i++) out[i] = c->ac * c->y[i];
}

/* hh = sqrt(a_s) Xi^T sigma_f(v) + cross (uses c->t); returns sigma_f(v) */
static const REAL *FN(hidden_in)(FN(ctx) *c, const REAL *v, const REAL *cross, REAL *hh) {
    const REAL *g = FN(act_f)(c, v, c->g, c->N);
    FN(xt)(c->xiT, g, c->t, c->N, c->P);
    for (int64_t i = 0; i < c->P; i++) hh[i] = c->sa * c->t[i] + cross[i];
    return g;
}

/* (dv/dt, dh/dt) with the slow population frozen (Dense.fast) */
static void FN(fast)(FN(ctx) *c, const REAL *v, const REAL *h, const REAL *cross, const REAL *inp,
                     REAL *restrict dv, REAL *restrict dh) {
    const int64_t N = c->N, P = c->P;
    FN(hidden_in)(c, v, cross, c->hh);
    if (!h) {
        FN(act_h)(c, c->hh, c->p);
    } else {
        FN(act_h)(c, h, c->p);
        for (int64_t i = 0; i < P; i++) dh[i] = (c->hh[i] - h[i]) / c->T_h;
    }
    FN(xm)(c->xiT, c->p, c->q, N, P);
    const REAL sa = c->sa, T_f = c->T_f;
    if (inp) {
        for (int64_t i = 0; i < N; i++) dv[i] = (sa * c->q[i] - v[i] + inp[i]) / T_f;
    } else {
        for (int64_t i = 0; i < N; i++) dv[i] = (sa * c->q[i] - v[i]) / T_f;
    }
}

/* ds/dt = (beta_d sigma_f(v) - s) / T_d */
static void FN(slow)(FN(ctx) *c, const REAL *v, const REAL *s, REAL *restrict ds) {
    const REAL *g = FN(act_f)(c, v, c->g, c->N);
    for (int64_t i = 0; i < c->N; i++) ds[i] = (c->bd * g[i] - s[i]) / c->T_d;
}

/* Recorded signals of one stream at sample j (Dense.signals). */
static void FN(record)(FN(ctx) *c, const gsemm_args *a, int64_t j, int64_t b, const REAL *v, const REAL *s,
                       const REAL *h, const REAL *inp, REAL *w_n, REAL *w_p1, REAL *w_p2, REAL *w_p3) {
    const int64_t N = c->N, P = c->P, B = a->B;
    const int64_t rowN = (j * B + b) * N, rowP = (j * B + b) * P, row1 = j * B + b;
    if (a->rec_v) memcpy((REAL *)a->rec_v + rowN, v, (size_t)N * sizeof(REAL));
    if (a->rec_s) memcpy((REAL *)a->rec_s + rowN, s, (size_t)N * sizeof(REAL));
    if (a->rec_overlaps) {
        REAL *o = (REAL *)a->rec_overlaps + rowP;
        FN(xt)(c->xiT, v, o, N, P);
        for (int64_t i = 0; i < P; i++) o[i] = o[i] / (REAL)N;
    }
    if (!(a->rec_hidden || a->rec_energy || a->rec_F || a->rec_S)) return;
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
            for (int64_t i = 0; i < P; i++) t1 += c->sa * (c->t[i] * p[i]);
            e = e - t1;
            FN(xt)(c->xiT, s, c->t2, N, P);
            FN(phi_m)(c->phi, p, c->y, P);
            for (int64_t i = 0; i < P; i++) t2 += c->ac * (c->t2[i] * c->y[i]);
            e = e - t2;
        }
        if (inp) e = e - FN(dot)(g, inp, N);
        ((REAL *)a->rec_energy)[row1] = e;
    }
    if (a->rec_F) {
        /* flow: dv = (sqrt(a_s) Xi p - v + I)/T_f, dh = (hh - h)/T_h */
        FN(xm)(c->xiT, p, c->q, N, P);
        for (int64_t i = 0; i < N; i++) {
            REAL d = c->sa * c->q[i] - v[i];
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
        FN(xm)(c->xiT, c->y, c->q, N, P);
        REAL acc = 0;
        for (int64_t i = 0; i < N; i++) {
            const REAL ds = (c->bd * g[i] - s[i]) / c->T_d;
            acc += c->ac * (c->q[i] * ds);
        }
        ((REAL *)a->rec_S)[row1] = -acc;
    }
}

static const REAL *FN(input_at)(const gsemm_args *a, int64_t i, int64_t b) {
    if (a->input_mode == 0) return NULL;
    if (a->input_mode == 1) return (const REAL *)a->inputs + b * a->N;
    return (const REAL *)a->inputs + (i * a->B + b) * a->N;
}

/* All steps of stream b. Returns 0, or 1 when scratch memory cannot be allocated. */
static int FN(run_stream)(const gsemm_args *a, int64_t b) {
    const int64_t N = a->N, P = a->P;
    FN(ctx) c;
    c.N = N;
    c.P = P;
    c.xiT = (const REAL *)a->xiT + (a->xi_batched ? b * P * N : 0);
    c.phi = (const REAL *)a->phi + (a->phi_batched ? b * P * P : 0);
    c.sa = ((const REAL *)a->sqrt_as)[b];
    c.ac = ((const REAL *)a->alpha_c)[b];
    c.bd = ((const REAL *)a->beta_d)[b];
    c.feature = (int)a->feature;
    c.hidden = (int)a->hidden;
    c.degree = (int)a->degree;
    c.has_h = (int)a->has_h;
    c.gain = (REAL)a->gain;
    c.beta = (REAL)a->beta;
    c.scale = (REAL)a->scale;
    c.T_f = (REAL)a->T_f;
    c.T_d = (REAL)a->T_d;
    c.T_h = (REAL)a->T_h;

    /* scratch: 12 N-vectors and 24 P-vectors */
    const int64_t nN = 12, nP = 24;
    REAL *mem = (REAL *)malloc((size_t)(nN * N + nP * P) * sizeof(REAL));
    if (!mem) return 1;
    REAL *wn[12], *wp[24];
    for (int k = 0; k < nN; k++) wn[k] = mem + k * N;
    for (int k = 0; k < nP; k++) wp[k] = mem + nN * N + k * P;
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

    REAL *v = (REAL *)a->v + b * N;
    REAL *s = (REAL *)a->s + b * N;
    REAL *h = a->has_h ? (REAL *)a->h + b * P : NULL;
    if (!h) { k1h = k2h = k3h = k4h = ht = NULL; }

    const double dtd = a->dt;
    const REAL dt = (REAL)dtd, hdt = (REAL)(0.5 * dtd), dt6 = (REAL)(dtd / 6);
    const double ad = dtd / a->T_d;
    const REAL fac = (REAL)(1 - ad / 2 + ad * ad / 6 - ad * ad * ad / 24);
    const int rec = a->rec_overlaps || a->rec_v || a->rec_s || a->rec_hidden || a->rec_energy || a->rec_F || a->rec_S;
    const int64_t steps = a->steps, every = a->record_every;

    if (rec) FN(record)(&c, a, 0, b, v, s, h, steps > 0 ? FN(input_at)(a, 0, b) : NULL, vt, rp1, rp2, rp3);

    for (int64_t it = 0; it < steps; it++) {
        const REAL *inp = FN(input_at)(a, it, b);
        if (a->method == 0) { /* euler */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < N; i++) v[i] = v[i] + dt * k1v[i];
            for (int64_t i = 0; i < N; i++) s[i] = s[i] + dt * k1s[i];
            if (h) for (int64_t i = 0; i < P; i++) h[i] = h[i] + dt * k1h[i];
        } else if (a->method == 2) { /* split: RK4 on (v, h) with s frozen, exact RK4 factor on s */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + hdt * k1v[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + hdt * k1h[i];
            FN(fast)(&c, vt, ht, cr, inp, k2v, k2h);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + hdt * k2v[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + hdt * k2h[i];
            FN(fast)(&c, vt, ht, cr, inp, k3v, k3h);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + dt * k3v[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + dt * k3h[i];
            FN(fast)(&c, vt, ht, cr, inp, k4v, k4h);
            for (int64_t i = 0; i < N; i++)
                v[i] = v[i] + dt6 * (k1v[i] + (REAL)2 * k2v[i] + (REAL)2 * k3v[i] + k4v[i]);
            if (h)
                for (int64_t i = 0; i < P; i++)
                    h[i] = h[i] + dt6 * (k1h[i] + (REAL)2 * k2h[i] + (REAL)2 * k3h[i] + k4h[i]);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < N; i++) s[i] = s[i] + dt * k1s[i] * fac;
        } else { /* joint rk4 */
            FN(cross)(&c, s, cr);
            FN(fast)(&c, v, h, cr, inp, k1v, k1h);
            FN(slow)(&c, v, s, k1s);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + hdt * k1v[i];
            for (int64_t i = 0; i < N; i++) st[i] = s[i] + hdt * k1s[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + hdt * k1h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k2v, k2h);
            FN(slow)(&c, vt, st, k2s);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + hdt * k2v[i];
            for (int64_t i = 0; i < N; i++) st[i] = s[i] + hdt * k2s[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + hdt * k2h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k3v, k3h);
            FN(slow)(&c, vt, st, k3s);
            for (int64_t i = 0; i < N; i++) vt[i] = v[i] + dt * k3v[i];
            for (int64_t i = 0; i < N; i++) st[i] = s[i] + dt * k3s[i];
            if (h) for (int64_t i = 0; i < P; i++) ht[i] = h[i] + dt * k3h[i];
            FN(cross)(&c, st, cr);
            FN(fast)(&c, vt, ht, cr, inp, k4v, k4h);
            FN(slow)(&c, vt, st, k4s);
            for (int64_t i = 0; i < N; i++)
                v[i] = v[i] + dt6 * (k1v[i] + (REAL)2 * k2v[i] + (REAL)2 * k3v[i] + k4v[i]);
            for (int64_t i = 0; i < N; i++)
                s[i] = s[i] + dt6 * (k1s[i] + (REAL)2 * k2s[i] + (REAL)2 * k3s[i] + k4s[i]);
            if (h)
                for (int64_t i = 0; i < P; i++)
                    h[i] = h[i] + dt6 * (k1h[i] + (REAL)2 * k2h[i] + (REAL)2 * k3h[i] + k4h[i]);
        }
        if (rec && (it + 1) % every == 0)
            FN(record)(&c, a, (it + 1) / every, b, v, s, h, inp, vt, rp1, rp2, rp3);
    }
    free(mem);
    return 0;
}

/* Entry point: runs every stream; returns 0 on success, 1 on allocation failure. */
int64_t FN(gsemm_run)(const gsemm_args *a) {
    int64_t fail = 0;
    const int64_t B = a->B;
#ifdef _OPENMP
    const int nt = (int)(a->nthreads < 1 ? 1 : (a->nthreads > B ? B : a->nthreads));
#pragma omp parallel for schedule(static) num_threads(nt) reduction(| : fail) if (nt > 1)
#endif
    for (int64_t b = 0; b < B; b++) fail |= FN(run_stream)(a, b);
    return fail;
}

#endif /* GSEMM_BODY */
