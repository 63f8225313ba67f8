"""Sparse dictionary learning of one layer, beside scikit-learn's learner it wraps.

The workflow's :class:`AtomLearner` fits scikit-learn's ``MiniBatchDictionaryLearning`` on
the layer's AN series, codes them with lasso and orients the atoms; the reference is the
same scikit-learn fit and transform alone, so the ratio is the wrapper's own cost. No
target is set for this step; the line gives its time per layer (times the number of
stream-layers, about 80, per model run).

    .venv/bin/python -m bench.encoding.sdl_bench [--fast]
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning
from sklearn.exceptions import ConvergenceWarning

from vlmbrain.encoding.sdl import AtomLearner

HCP = {"trs": 3600, "n_ans": 768, "n_atoms": 64}
FAST = {"trs": 400, "n_ans": 128, "n_atoms": 8}


def layer_series(trs, n_ans, seed=0):
    """A layer's AN series (T x N): a few shared smooth patterns with either sign, plus noise."""
    rng = np.random.default_rng(seed)
    patterns = np.cumsum(rng.standard_normal((trs, 4)), 0)
    X = patterns @ rng.standard_normal((4, n_ans)) + 2.0 * rng.standard_normal((trs, n_ans))
    return ((X - X.mean(0)) / X.std(0)).astype(np.float32)


def measure(trs, n_ans, n_atoms, alpha=1.0, max_iter=10, batch_size=256, seed=0):
    """Seconds of :class:`AtomLearner` and of the bare scikit-learn fit and transform."""
    X = layer_series(trs, n_ans, seed)
    t0 = time.perf_counter()
    est = AtomLearner(n_atoms, alpha, max_iter, batch_size, seed).fit(X)
    t_ours = time.perf_counter() - t0
    samples = np.ascontiguousarray(X.T, dtype=np.float64)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MiniBatchDictionaryLearning(
            n_components=n_atoms, alpha=alpha, max_iter=max_iter, batch_size=min(batch_size, n_ans),
            fit_algorithm="cd", transform_algorithm="lasso_cd", transform_alpha=alpha,
            transform_max_iter=1000, random_state=seed,
        ).fit(samples).transform(samples)
    t_ref = time.perf_counter() - t0
    return {"ours_s": t_ours, "sklearn_s": t_ref, "r2": est.r2_, "zero_fraction": est.zero_fraction_}


def rows(fast):
    """The table's SDL line."""
    from bench.table import Row

    size = FAST if fast else HCP
    m = measure(**size)
    return [Row(
        "sdl_per_layer", "sparse dictionary learning of a layer", m["ours_s"],
        "scikit-learn MiniBatchDictionaryLearning fit + transform", m["sklearn_s"], "none set", None,
        f"{size['trs']:,} TRs x {size['n_ans']} ANs -> {size['n_atoms']} atoms",
        f"reconstruction R2 {m['r2']:.2f}", m,
    )]


def main():
    from bench.table import main_of

    main_of(rows, __doc__)


if __name__ == "__main__":
    main()
