"""Simulated BOLD with planted couplings: CIFTI dtseries per subject and run."""

from __future__ import annotations

import logging

import numpy as np
from scipy import signal

from vlmbrain.encoding.temporal import convolved_series
from vlmbrain.stimuli.table import run_slices

log = logging.getLogger("vlmbrain")


def coupling_signal(X, rows, ans, weights, hrf="spm", tr=1.0):
    """The BOLD time course of one coupling over all TRs (rest included).

    A positively weighted mixture of the HRF-convolved series of the planted ANs,
    scaled to unit standard deviation within each run.
    """
    S = convolved_series(np.asarray(X[:, ans], np.float32), rows, hrf, tr)
    s = S @ np.asarray(weights, np.float32)
    for sl in run_slices(rows["run"].to_numpy()):
        sd = s[sl].std()
        s[sl] = (s[sl] - s[sl].mean()) / sd if sd > 0 else 0.0
    return s.astype(np.float32)


def noise(rng, n_t, n_vox, sigma, ar1, drift, tr=1.0, dtype=np.float32):
    """AR(1) noise of marginal s.d. ``sigma`` plus slow cosine drift (periods > 128 s)."""
    innov = rng.standard_normal((n_t, n_vox), dtype=np.float32) * np.float32(
        sigma * np.sqrt(1 - ar1**2)
    )
    innov[0] /= np.float32(np.sqrt(1 - ar1**2))  # stationary start
    e = signal.lfilter([1.0], [1.0, -ar1], innov, axis=0).astype(dtype)
    n_basis = int(np.floor(2 * n_t * tr / 128.0))
    if drift > 0 and n_basis > 0:
        t = np.arange(n_t)
        basis = np.stack(
            [np.cos(np.pi * k * (2 * t + 1) / (2 * n_t)) for k in range(1, n_basis + 1)], 1
        ).astype(dtype)
        coef = rng.standard_normal((n_basis, n_vox), dtype=np.float32) * np.float32(
            drift / np.sqrt(n_basis)
        )
        e += basis @ coef
    return e


def simulate_bold(subject_index, rows, truth, arrays, get_layer, simulation, n_vox, tr=1.0,
                  hrf="spm"):
    """One subject's BOLD over all TRs of all runs: planted couplings plus noise.

    Parameters
    ----------
    subject_index : int
        Position of the subject (seeds its variability and noise).
    rows : DataFrame
        Row labels of all TRs (``vlmbrain.encoding.temporal.timing``).
    truth : DataFrame
        Ground-truth table (:data:`vlmbrain.simulation.truth.COLUMNS`).
    arrays : dict
        ``masks``, ``weights``, ``ans`` from :func:`vlmbrain.simulation.truth.plant`.
    get_layer : callable
        ``get_layer(model, stream, layer) -> T_all x N`` activations.
    simulation : dict
        ``simulation`` config section (``seed``, ``noise``).
    n_vox : int

    Returns
    -------
    ndarray (T_all, V) float32
    """
    masks, weights, ans = arrays["masks"], arrays["weights"], arrays["ans"]
    if masks.shape[1] != n_vox:
        raise ValueError(f"ground-truth masks have {masks.shape[1]} grayordinates, expected {n_vox}")
    nz = simulation["noise"]
    rng = np.random.default_rng([int(simulation["seed"]), 1 + int(subject_index)])
    var = float(nz["subject_variability"])
    sigma = float(nz["sigma"]) * float(np.exp(var * rng.standard_normal()))
    Y = np.concatenate([  # runs are separate acquisitions: noise and drift per run
        noise(rng, sl.stop - sl.start, n_vox, sigma, float(nz["ar1"]), float(nz["drift"]), tr)
        for sl in run_slices(rows["run"].to_numpy())
    ])
    for i, c in truth.reset_index(drop=True).iterrows():
        gain = float(c["strength"]) * float(np.exp(var * rng.standard_normal()))
        keep = ans[i] >= 0
        X = get_layer(c["model"], c["stream"], int(c["layer"]))
        if X.shape[0] != len(rows):
            raise ValueError(
                f"{c['model']} {c['stream']} layer {c['layer']}: {X.shape[0]} TRs in the "
                f"activations but {len(rows)} in the stimulus tables; rerun the activations rule."
            )
        s = coupling_signal(X, rows, ans[i][keep], weights[i][keep], hrf, tr)
        idx = np.flatnonzero(masks[i])
        Y[:, idx] += np.float32(int(c["sign"]) * gain) * s[:, None]
        log.info("subject %d: planted %s %s layer %d -> %s (sign %+d, gain %.2f, %d grayordinates)",
                 subject_index, c["model"], c["stream"], c["layer"], c["network"], c["sign"],
                 gain, idx.size)
    Y += np.float32(100.0)  # a positive baseline, as raw BOLD has
    return Y
