"""Benchmark: AR(1) GLM against plain OLS (the GEMM bound) and nilearn's run_glm(ar1).

Usage::

    .venv/bin/python bench/encoding/glm_bench.py                 # HCP scale: 91,282 x 3,600 x 64
    .venv/bin/python bench/encoding/glm_bench.py --scale 0.25    # a fraction of the grayordinates
    .venv/bin/python bench/encoding/glm_bench.py --ridge         # also time the LORO ridge
    .venv/bin/python bench/encoding/glm_bench.py --torch cpu     # also time it on torch (cpu, cuda)

nilearn is timed on ``--nilearn-voxels`` grayordinates and extrapolated linearly (its
cost is per AR bin and per grayordinate); both are printed. Peak memory is the peak of
numpy allocations (tracemalloc) during the fit, added to the BOLD array itself.
``python -m bench`` runs :func:`rows` as part of the whole table.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.stats import add_intercept, ar1_glm

HCP = {"n_vox": 91282, "trs": 3600, "atoms": 64}
FAST = {"n_vox": 2000, "trs": 300, "atoms": 16}
# numpy against torch (compute.backend): a modest size, a quarter of the grayordinates
BACKEND = {"n_vox": 20000, "trs": 3600, "atoms": 64}
ALPHAS = [0.1, 1, 10, 100, 1000, 10000]


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
    """``(result, seconds, peak bytes of numpy allocations)`` of one call."""
    tracemalloc.start()
    t = time.perf_counter()
    res = fn(*a, **k)
    dt = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return res, dt, peak


def simulated_bold(n_vox, trs, atoms, seed=0):
    """Atoms (T x K) and AR(1) noise BOLD with some signal from the first 8 atoms (T x V).

    Returns
    -------
    D : ndarray (T, K) float32
    Y : ndarray (T, V) float32
        AR(1) noise with coefficients spread over 0 to 0.6, plus the atoms' signal.
    """
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((trs, atoms)).astype(np.float32)
    Y = rng.standard_normal((trs, n_vox), dtype=np.float32)
    rho = rng.uniform(0.0, 0.6, n_vox).astype(np.float32)
    for t in range(1, trs):
        Y[t] += rho * Y[t - 1]
    k = min(8, atoms)
    Y += D[:, :k] @ (0.1 * rng.standard_normal((k, n_vox))).astype(np.float32)
    return D, Y


def measure(n_vox, trs, atoms, chunk_size=20000, nilearn_voxels=4000, ridge=False, seed=0):
    """Time plain OLS, the AR(1) GLM and nilearn's ``run_glm(noise_model='ar1')`` on one dataset.

    Returns
    -------
    dict
        Seconds (``ols_s``, ``glm_s``, ``nilearn_s`` extrapolated from ``nilearn_voxels``
        grayordinates, ``ridge_s`` when asked), peaks in MiB (BOLD plus extra) and
        ``bold_mib``.
    """
    D, Y = simulated_bold(n_vox, trs, atoms, seed)
    X = add_intercept(D)
    _, t_ols, m_ols = timed(ols_with_residuals, Y, X, chunk_size)
    _, t_glm, m_glm = timed(ar1_glm, Y, X, 100, chunk_size=chunk_size)

    from nilearn.glm.first_level import run_glm

    nv = min(nilearn_voxels, n_vox)
    Y64 = Y[:, :nv].astype(np.float64)
    _, t_nl_sub, _ = timed(run_glm, Y64, X.astype(np.float64), "ar1", 100)
    bold = Y.nbytes / 2**20
    out = {
        "bold_mib": bold,
        "ols_s": t_ols, "ols_peak_mib": bold + m_ols / 2**20,
        "glm_s": t_glm, "glm_peak_mib": bold + m_glm / 2**20,
        "nilearn_s": t_nl_sub * n_vox / nv, "nilearn_voxels": nv,
    }
    if ridge:
        runs = np.repeat(np.arange(4), int(np.ceil(trs / 4)))[:trs]
        _, t_ridge, m_ridge = timed(ridge_loro, D, Y, runs, ALPHAS, chunk_size)
        out.update(ridge_s=t_ridge, ridge_peak_mib=bold + m_ridge / 2**20)
    return out


def measure_backend(n_vox, trs, atoms, device="cpu", chunk_size=20000, seed=0):
    """Time the AR(1) GLM on numpy and on torch (``compute.backend: torch`` on ``device``).

    Returns
    -------
    dict
        ``numpy_s``, ``torch_s`` (the second of two calls, so that torch's one-time start-up
        is not counted), ``device`` (where torch ran: numpy when it fell back) and
        ``max_t_diff``, the largest difference of t between the two (float32 fits).
    """
    from vlmbrain.stats.backend import get_backend

    D, Y = simulated_bold(n_vox, trs, atoms, seed)
    X = add_intercept(D)
    be = get_backend("torch", device)
    ref, t_np, _ = timed(ar1_glm, Y, X, 100, chunk_size=chunk_size)
    for _ in range(2):
        out, t_torch, _ = timed(ar1_glm, Y, X, 100, chunk_size=chunk_size, backend=be)
    return {"numpy_s": t_np, "torch_s": t_torch, "device": str(be.device),
            "max_t_diff": float(np.nanmax(np.abs(out["t"] - ref["t"])))}


def rows(fast):
    """The table's GLM lines: against plain OLS, against nilearn, the peak memory, and
    torch on the CPU against numpy."""
    from bench.table import Row

    size = FAST if fast else HCP
    m = measure(**size, nilearn_voxels=100 if fast else 4000)
    shape = f"{size['n_vox']:,} grayordinates x {size['trs']:,} TRs x {size['atoms']} atoms, float32"
    ols = Row("glm_vs_ols", "AR(1) GLM", m["glm_s"], "plain OLS with residuals (GEMM bound)", m["ols_s"],
              "ratio <= 2.5", m["glm_s"] <= 2.5 * m["ols_s"], shape,
              f"peak {m['glm_peak_mib']:.0f} MiB, BOLD {m['bold_mib']:.0f} MiB", m)
    nil = Row("glm_vs_nilearn", "AR(1) GLM", m["glm_s"], "nilearn run_glm(noise_model='ar1')", m["nilearn_s"],
              "ratio <= 0.1", m["glm_s"] <= 0.1 * m["nilearn_s"], shape,
              f"nilearn timed on {m['nilearn_voxels']:,} grayordinates, extrapolated linearly")
    peak = m["glm_peak_mib"] / m["bold_mib"]
    mem = Row("glm_peak_memory", "AR(1) GLM peak / BOLD array", None, target="peak <= 2x BOLD",
              met=peak <= 2, size=shape, note=f"peak / BOLD = {peak:.2f}", extra={"peak_over_bold": peak})
    size = FAST if fast else BACKEND
    b = measure_backend(**size)
    torch_row = Row("glm_torch_vs_numpy", f"AR(1) GLM, torch on {b['device']}", b["torch_s"],
                    "the same on numpy", b["numpy_s"], "none set", None,
                    f"{size['n_vox']:,} grayordinates x {size['trs']:,} TRs x {size['atoms']} atoms, float32",
                    f"max |t difference| {b['max_t_diff']:.1e}", b)
    return [ols, nil, mem, torch_row]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of 91,282 grayordinates")
    ap.add_argument("--trs", type=int, default=3600)
    ap.add_argument("--atoms", type=int, default=64)
    ap.add_argument("--chunk-size", type=int, default=20000)
    ap.add_argument("--nilearn-voxels", type=int, default=4000)
    ap.add_argument("--ridge", action="store_true")
    ap.add_argument("--torch", metavar="DEVICE", help="also time the GLM on torch on DEVICE")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n_vox = int(round(91282 * args.scale))
    print(f"data: {args.trs} TRs x {n_vox} grayordinates x {args.atoms} atoms, float32, "
          f"chunk {args.chunk_size}")
    m = measure(n_vox, args.trs, args.atoms, args.chunk_size, args.nilearn_voxels, args.ridge, args.seed)
    rows = [
        ("plain OLS + residuals (GEMM bound)", m["ols_s"], m["ols_peak_mib"]),
        ("vlmbrain AR(1) GLM", m["glm_s"], m["glm_peak_mib"]),
        (f"nilearn run_glm(ar1) (timed on {m['nilearn_voxels']}, extrapolated)", m["nilearn_s"], None),
    ]
    if args.ridge:
        rows.append(("vlmbrain LORO ridge (4 runs, 6 alphas)", m["ridge_s"], m["ridge_peak_mib"]))
    print(f"{'step':<52}{'seconds':>10}{'peak MiB (BOLD + extra)':>26}")
    for name, t, mem in rows:
        print(f"{name:<52}{t:>10.2f}{'' if mem is None else f'{mem:.0f}':>26}")
    print(f"AR(1) GLM / OLS: {m['glm_s'] / m['ols_s']:.2f}x (target <= 2.5x); nilearn / AR(1) GLM: "
          f"{m['nilearn_s'] / m['glm_s']:.1f}x (target >= 10x); peak / BOLD: "
          f"{m['glm_peak_mib'] / m['bold_mib']:.2f} (target <= 2)")
    if args.torch:
        b = measure_backend(n_vox, args.trs, args.atoms, args.torch, args.chunk_size, args.seed)
        print(f"AR(1) GLM on numpy {b['numpy_s']:.2f} s, on torch ({b['device']}) "
              f"{b['torch_s']:.2f} s; max |t difference| {b['max_t_diff']:.1e}")


if __name__ == "__main__":
    main()
