"""Noise ceiling from the validation clip repeated in every run."""

from __future__ import annotations

import numpy as np

from vlmbrain.encoding.temporal import run_slices


def validation_repeats(Y, runs, validation):
    """The validation-clip rows of each run stacked: (n_runs, T_val, V).

    Runs are cut to the shortest repeat; runs without validation rows are skipped.
    """
    validation = np.asarray(validation, bool)
    reps = []
    for sl in run_slices(runs):
        rows = np.flatnonzero(validation[sl]) + sl.start
        if rows.size:
            reps.append(rows)
    if len(reps) < 2:
        return None
    n = min(r.size for r in reps)
    return np.stack([np.asarray(Y[r[:n]], np.float32) for r in reps])


def noise_ceiling(Y, runs, validation):
    """Per-grayordinate noise ceiling of a single-run prediction r.

    The mean Pearson r between every pair of repeats of the validation clip estimates
    the reliability rho of one repeat; a perfect model of the stimulus-driven signal
    reaches r = sqrt(rho) on one repeat, which is the ceiling returned (0 where rho <= 0;
    NaN where undefined: a grayordinate without data, or constant over a repeat).

    Parameters
    ----------
    Y : ndarray (T, V)
        NaN columns are grayordinates without data (:mod:`vlmbrain.stats.missing`).
    runs : array (T,)
        Run label per row.
    validation : array of bool (T,)
        True on validation-clip rows.

    Returns
    -------
    ndarray (V,) float32, or None when fewer than two runs hold the validation clip.
    """
    reps = validation_repeats(Y, runs, validation)
    if reps is None:
        return None
    z = reps - reps.mean(1, keepdims=True)
    norm = np.sqrt((z**2).sum(1, keepdims=True))
    undefined = ~(norm > 0).all(axis=0)[0]  # constant over a repeat, or NaN
    z = np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)
    n = z.shape[0]
    total = np.zeros(z.shape[2])
    for i in range(n):
        for j in range(i + 1, n):
            total += (z[i] * z[j]).sum(0)
    rho = total / (n * (n - 1) / 2)
    ceiling = np.sqrt(np.clip(rho, 0, None))
    ceiling[undefined] = np.nan
    return ceiling.astype(np.float32)
