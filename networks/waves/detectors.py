"""Wave detectors and memory diagnostics for recurrent hidden states.

* :func:`fft_diag_power` — 2-D FFT "diagonal power": a traveling wave ``a(t, i) = g(i ± v t)`` with
  speed 1 neuron/step puts its energy on the (anti-)diagonal ``k_t = ∓k_i`` of the (time × neuron)
  spectrum. We report

      P = mean_{diag} |Â(k,k')|² / mean_{k≠0} |Â_shuf|²

  over an ``M × M`` window (``M = min(T, N)``, mean removed, DC excluded) where ``Â_shuf`` is the spectrum
  of a time-and-space shuffled copy (same total energy, Parseval). ``P ≈ M`` for a perfect wave, ``≈ 1``
  for activity with no diagonal structure.
* :func:`lag_decodability` — ridge regression of ``u(t−k)`` from ``h(t)`` for each lag ``k``; returns the
  held-out ``R²`` (fit on the first half, scored on the second).
* :func:`jacobian_product_norms` — ``‖J_T J_{T−1} ⋯ J_{T−k+1}‖₂`` for ``k = 0 … K`` with
  ``J_t = diag(σ′(h_t)) W`` (``σ′`` from the post-activation: tanh ``1−h²``, relu ``[h>0]``, linear 1).

Example
-------
>>> import torch
>>> t, i = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
>>> wave = torch.cos(2 * torch.pi * 3 * (i + t) / 32.0)
>>> fft_diag_power(wave, generator=torch.Generator().manual_seed(0))["power"] > 10
True
"""
from __future__ import annotations

import torch
from torch import Tensor


def fft_diag_power(activity: Tensor, generator: torch.Generator | None = None) -> dict:
    """Diagonal power of a ``(T, N)`` activity map (see the module docstring).

    Returns ``{"power": P (max of both directions), "direction": +1 | −1, "spectrum": |Â|² / mean|Â_shuf|²}``
    where direction ``+1`` means content moves toward lower neuron indices (``a(t,i) = g(i + t)``).

    >>> t, i = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    >>> wave, bump = torch.cos(0.4 * (i + t)), torch.cos(0.4 * i).expand(32, 32)
    >>> g = torch.Generator().manual_seed(0)
    >>> r_wave, r_bump = fft_diag_power(wave, generator=g), fft_diag_power(bump, generator=g)
    >>> r_wave["direction"], r_wave["power"] > 10 * r_bump["power"]
    (1, True)
    """
    if activity.dim() != 2:
        raise ValueError(f"activity must be (T, N); got {tuple(activity.shape)}")
    if not torch.isfinite(activity).all():
        raise ValueError("activity contains NaN or inf")
    M = min(activity.shape)
    if M < 2:
        raise ValueError(f"activity needs at least 2 time steps and 2 neurons; got {tuple(activity.shape)}")
    a = activity[-M:, :M].to(torch.float64)
    a = a - a.mean()
    spec = torch.fft.fft2(a).abs() ** 2
    perm = torch.randperm(M * M, generator=generator)
    shuf = torch.fft.fft2(a.flatten()[perm].reshape(M, M)).abs() ** 2
    ref = (shuf.sum() - shuf[0, 0]) / (M * M - 1)
    if ref <= 0:
        return {"power": 0.0, "direction": 0, "spectrum": torch.zeros_like(spec)}
    k = torch.arange(M)
    # a(t, i) = g(i + t): energy at (k_t, k_i) with k_t = k_i  (main diagonal)
    diag = spec[k, k][1:].mean() / ref
    anti = spec[k, (-k) % M][1:].mean() / ref
    power, direction = (diag, 1) if diag >= anti else (anti, -1)
    return {"power": float(power), "direction": direction, "spectrum": spec / ref}


def lag_decodability(h: Tensor, u: Tensor, max_lag: int, ridge: float = 1e-6) -> Tensor:
    """Held-out ``R²`` of ridge-decoding ``u(t−k)`` from ``h(t)``, ``k = 0 … max_lag`` (shape ``(max_lag+1,)``).

    One stream: ``h (T, N)``, ``u (T, m)`` or ``(T,)`` — the samples ``t ≥ k`` are split in two halves in
    time. Many streams: ``h (B, T, N)``, ``u (B, T, m)`` — samples are all ``(b, t ≥ k)``, split by stream
    (first half fit, second half scored). The map has an intercept and a ridge
    ``λ · mean‖x‖²``; ``R² = 1 − SSE/SST`` is averaged over the m outputs.

    >>> u = torch.rand(200, generator=torch.Generator().manual_seed(0))
    >>> h = torch.stack([u, torch.roll(u, 1)], 1)           # h(t) = [u(t), u(t−1)]
    >>> r2 = lag_decodability(h[1:], u[1:], 2)
    >>> bool(r2[0] > 0.99 and r2[1] > 0.99 and r2[2] < 0.5)
    True
    """
    batched = h.dim() == 3
    if u.dim() == h.dim() - 1:
        u = u.unsqueeze(-1)
    if h.dim() not in (2, 3) or u.dim() != h.dim() or h.shape[:-1] != u.shape[:-1]:
        raise ValueError(f"h must be (T, N) or (B, T, N) and u (T, m) or (B, T, m) with matching leading "
                         f"dimensions; got {tuple(h.shape)}, {tuple(u.shape)}")
    h = h.detach().to(torch.float64)
    u = u.detach().to(torch.float64)
    if not batched:
        h, u = h.unsqueeze(0), u.unsqueeze(0)
    B, T = h.shape[:2]
    if max_lag < 0 or (T - max_lag) * B < 8 or (batched and B < 2):
        raise ValueError(f"max_lag={max_lag} must be >= 0 and leave at least 8 samples (B={B}, T={T}); "
                         "batched input needs B >= 2 streams")
    if ridge < 0:
        raise ValueError(f"ridge={ridge} must be >= 0")
    out = []
    for k in range(max_lag + 1):
        X, Y = h[:, k:], u[:, :T - k]
        if batched:
            nb = B // 2
            Xa, Ya = X[:nb].reshape(-1, X.shape[-1]), Y[:nb].reshape(-1, Y.shape[-1])
            Xb, Yb = X[nb:].reshape(-1, X.shape[-1]), Y[nb:].reshape(-1, Y.shape[-1])
        else:
            X, Y = X[0], Y[0]
            n = X.shape[0] // 2
            Xa, Ya, Xb, Yb = X[:n], Y[:n], X[n:], Y[n:]
        mx, my = Xa.mean(0), Ya.mean(0)
        Xc, Yc = Xa - mx, Ya - my
        scale = max(1.0, float(Xc.pow(2).sum()) / max(Xc.shape[0], 1))
        A = Xc.T @ Xc + ridge * scale * torch.eye(X.shape[-1], dtype=X.dtype)
        beta = torch.linalg.lstsq(A, Xc.T @ Yc).solution
        pred = (Xb - mx) @ beta + my
        sse = ((Yb - pred) ** 2).sum(0)
        sst = ((Yb - Yb.mean(0)) ** 2).sum(0).clamp_min(1e-300)
        out.append((1 - sse / sst).mean())
    return torch.stack(out)


def _dact(h: Tensor, activation: str) -> Tensor:
    if activation == "tanh":
        return 1 - h * h
    if activation == "relu":
        return (h > 0).to(h.dtype)
    if activation == "linear":
        return torch.ones_like(h)
    raise ValueError(f"activation={activation!r} must be 'tanh', 'relu' or 'linear'")


def jacobian_product_norms(W: Tensor, hs: Tensor, max_lag: int, activation: str = "tanh") -> Tensor:
    """``‖∏_{j=0}^{k−1} J_{T−j}‖₂`` for ``k = 0 … max_lag`` from the last state backwards (shape ``(max_lag+1,)``).

    ``W (n, n)``; ``hs (T, n)`` the post-activation hidden states of one stream, ``T ≥ max_lag``.

    >>> W = 0.5 * torch.eye(3, dtype=torch.float64)
    >>> jacobian_product_norms(W, torch.zeros(4, 3, dtype=torch.float64), 3, "linear").tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    if W.dim() != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square; got {tuple(W.shape)}")
    if hs.dim() != 2 or hs.shape[1] != W.shape[0]:
        raise ValueError(f"hs must be (T, n={W.shape[0]}); got {tuple(hs.shape)}")
    if max_lag < 0 or max_lag > hs.shape[0]:
        raise ValueError(f"max_lag={max_lag} must be in [0, T={hs.shape[0]}]")
    W = W.to(torch.float64)
    hs = hs.to(torch.float64)
    P = torch.eye(W.shape[0], dtype=torch.float64)
    norms = [1.0]
    T = hs.shape[0]
    for j in range(max_lag):
        P = P @ (_dact(hs[T - 1 - j], activation)[:, None] * W)
        norms.append(float(torch.linalg.matrix_norm(P, ord=2)))
    return torch.tensor(norms, dtype=torch.float64)
