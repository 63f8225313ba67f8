"""Benchmark: AR(1) GLM against plain OLS (the GEMM bound) and nilearn's run_glm(ar1).

Usage::

    .venv/bin/python bench/encoding/glm_bench.py                 # HCP scale: 91,282 x 3,600 x 64
    .venv/bin/python bench/encoding/glm_bench.py --scale 0.25    # a fraction of the grayordinates
    .venv/bin/python bench/encoding/glm_bench.py --ridge         # also time the LORO ridge

nilearn is timed on ``--nilearn-voxels`` grayordinates and extrapolated linearly (its
cost is per AR bin and per grayordinate); both are printed. Peak memory is the peak of
numpy allocations (tracemalloc) during the fit, added to the BOLD array itself.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from vlmbrain.stats import add_intercept, ar1_glm
from vlmbrain.encoding.ridge import ridge_loro


def ols_with_residuals(Y, X, chunk_size):
    """Plain OLS betas and residual variance, float32 GEMMs, chunked like the GLM."""
    pinv = np.linalg.pinv(X.astype(np.float64)).astype(np.float32)
    Xf = X.astype(np.float32)
    out = np.empty((X.shape[1], Y.shape[1]), np.float32)
    ss = np.empty(Y.shape[1], np.float32)
    for s in range(0, Y.shape[1], chunk_size):
        Yc = Y[:, s : s + chunk_size]
        B = pinv @ Yc
        R = Yc - Xf @ B
        out[:, s : s + chunk_size] = B
        ss[s : s + chunk_size] = np.einsum("tv,tv->v", R, R)
    return out, ss


def timed(fn, *a, **k):
    tracemalloc.start()
    t = time.perf_counter()
    res = fn(*a, **k)
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return res, dt, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 91,282 grayordinates")
    ap.add_argument("--trs", type=int, default=3600)
    ap.add_argument("--atoms", type=int, default=64)
    ap.add_argument("--chunk-size", type=int, default=20000)
    ap.add_argument("--nilearn-voxels", type=int, default=4000)
    ap.add_argument("--ridge", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    n_vox = int(round(91282 * args.scale))
    D = rng.standard_normal((args.trs, args.atoms)).astype(np.float32)
    X = add_intercept(D)
    Y = rng.standard_normal((args.trs, n_vox), dtype=np.float32)
    # AR(1) noise with a spread of coefficients, plus some signal
    rho = rng.uniform(0.0, 0.6, n_vox).astype(np.float32)
    for t in range(1, args.trs):
        Y[t] += rho * Y[t - 1]
    Y += D[:, :8] @ (0.1 * rng.standard_normal((8, n_vox))).astype(np.float32)
    bold_mb = Y.nbytes / 2**20
    print(f"data: {args.trs} TRs x {n_vox} grayordinates x {args.atoms} atoms, float32 "
          f"(BOLD {bold_mb:.0f} MiB), chunk {args.chunk_size}")

    _, t_ols, m_ols = timed(ols_with_residuals, Y, X, args.chunk_size)
    _, t_glm, m_glm = timed(ar1_glm, Y, X, 100, chunk_size=args.chunk_size)

    from nilearn.glm.first_level import run_glm

    nv = min(args.nilearn_voxels, n_vox)
    Y64 = Y[:, :nv].astype(np.float64)
    _, t_nl_sub, _ = timed(run_glm, Y64, X.astype(np.float64), "ar1", 100)
    t_nl = t_nl_sub * n_vox / nv

    rows = [
        ("plain OLS + residuals (GEMM bound)", t_ols, m_ols),
        ("vlmbrain AR(1) GLM", t_glm, m_glm),
        (f"nilearn run_glm(ar1) (timed on {nv}, extrapolated)", t_nl, None),
    ]
    if args.ridge:
        runs = np.repeat(np.arange(4), int(np.ceil(args.trs / 4)))[: args.trs]
        _, t_ridge, m_ridge = timed(ridge_loro, D, Y, runs, [0.1, 1, 10, 100, 1000, 10000],
                                    args.chunk_size)
        rows.append(("vlmbrain LORO ridge (4 runs, 6 alphas)", t_ridge, m_ridge))
    print(f"{'step':<52}{'seconds':>10}{'peak MiB (BOLD + extra)':>26}")
    for name, t, m in rows:
        mem = "" if m is None else f"{bold_mb + m / 2**20:.0f}"
        print(f"{name:<52}{t:>10.2f}{mem:>26}")
    print(f"AR(1) GLM / OLS: {t_glm / t_ols:.2f}x (target <= 2.5x); nilearn / AR(1) GLM: "
          f"{t_nl / t_glm:.1f}x (target >= 10x); peak / BOLD: "
          f"{(bold_mb + m_glm / 2**20) / bold_mb:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
