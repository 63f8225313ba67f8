"""HRF convolution of one layer's AN series beside nilearn's ``compute_regressor`` route.

The workflow convolves all ANs of a layer at once, run by run (:class:`HRFConvolver`).
The nilearn route treats each AN of each run as a condition sampled at the TRs (onsets at
the frame times, amplitudes the AN values, durations one TR) and calls
``compute_regressor`` with the same canonical HRF, one column at a time; it is timed on
``nilearn_columns`` ANs and extrapolated linearly. ``min_r`` is the smallest correlation
between the two routes' regressors of the same AN.

    .venv/bin/python -m bench.encoding.hrf_bench [--fast]
"""

from __future__ import annotations

import time

import numpy as np

from vlmbrain.encoding.temporal import HRFConvolver
from vlmbrain.stimuli.table import run_slices

HCP = {"n_ans": 768, "n_runs": 4, "run_trs": 900}
FAST = {"n_ans": 64, "n_runs": 2, "run_trs": 200}


def nilearn_route(X, runs, tr=1.0, hrf="spm"):
    """Each column of each run through ``nilearn.glm.first_level.compute_regressor``."""
    from nilearn.glm.first_level import compute_regressor

    out = np.empty(X.shape, np.float32)
    for sl in run_slices(runs):
        frame_times = np.arange(sl.stop - sl.start) * tr
        for j in range(X.shape[1]):
            condition = np.vstack([frame_times, np.full_like(frame_times, tr), X[sl, j]])
            out[sl, j] = compute_regressor(condition, hrf, frame_times)[0][:, 0]
    return out


def measure(n_ans, n_runs, run_trs, nilearn_columns=32, seed=0):
    """Seconds of the workflow's convolution and of the nilearn route (extrapolated).

    Returns
    -------
    dict
        ``ours_s``, ``nilearn_s`` (extrapolated from ``nilearn_columns`` ANs), ``min_r``.
    """
    rng = np.random.default_rng(seed)
    runs = np.repeat(np.arange(n_runs), run_trs)
    X = rng.standard_normal((n_runs * run_trs, n_ans)).astype(np.float32)
    t0 = time.perf_counter()
    ours = HRFConvolver(runs).fit_transform(X)
    t_ours = time.perf_counter() - t0
    n = min(nilearn_columns, n_ans)
    t0 = time.perf_counter()
    theirs = nilearn_route(X[:, :n], runs)
    t_nl = (time.perf_counter() - t0) * n_ans / n
    r = [np.corrcoef(ours[:, j], theirs[:, j])[0, 1] for j in range(n)]
    return {"ours_s": t_ours, "nilearn_s": t_nl, "nilearn_columns": n, "min_r": float(np.min(r))}


def rows(fast):
    """The table's HRF line."""
    from bench.table import Row

    size = FAST if fast else HCP
    m = measure(**size, nilearn_columns=16 if fast else 64)
    return [Row(
        "hrf_vs_nilearn", "HRF convolution of a layer", m["ours_s"], "nilearn compute_regressor per AN",
        m["nilearn_s"], "ratio <= 0.1", m["ours_s"] <= 0.1 * m["nilearn_s"],
        f"{size['n_ans']} ANs x {size['n_runs']} runs x {size['run_trs']} TRs",
        f"nilearn on {m['nilearn_columns']} ANs, extrapolated; min r between the routes {m['min_r']:.3f}", m,
    )]


def main():
    from bench.table import main_of

    main_of(rows, __doc__)


if __name__ == "__main__":
    main()
