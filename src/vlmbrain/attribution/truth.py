"""What the attribution can find of a planted coupling (simulation): its unique share."""

from __future__ import annotations

import numpy as np

from vlmbrain.stimuli.table import run_slices

__all__ = ["planted_unique_share"]


def planted_unique_share(signal, references, runs):
    """Share of a planted time course that its stream's references do not explain.

    Parameters
    ----------
    signal : ndarray (T,)
        The coupling's noiseless time course over the modelled TRs.
    references : list of ndarray (T, k)
        The reference spaces the planted stream competes with.
    runs : array (T,)
        Run of each row (the signal is centred per run, as the BOLD and the features are).

    Returns
    -------
    float
        ``1 - R^2`` of the least-squares projection of the signal on the references.
    """
    s = np.asarray(signal, np.float64).copy()
    for sl in run_slices(np.asarray(runs)):
        s[sl] -= s[sl].mean()
    R = np.hstack([np.asarray(r, np.float64) for r in references])
    w, *_ = np.linalg.lstsq(R, s, rcond=None)
    return float(np.sum((s - R @ w) ** 2) / np.sum(s**2))


def coupling_unique_shares(truth, arrays, get_layer, rows, keep, features, against, hrf="spm",
                           tr=1.0):
    """:func:`planted_unique_share` of every planted coupling.

    Parameters
    ----------
    truth : DataFrame
        ``ground_truth.tsv``.
    arrays : dict
        ``ans`` and ``weights`` of ``ground_truth.npz``.
    get_layer : callable
        ``get_layer(model, stream, layer) -> T_all x N`` activations.
    rows : DataFrame
        Row labels of all TRs (``vlmbrain.encoding.temporal.timing``).
    keep : ndarray (T_all,) bool
        Modelled rows.
    features : mapping
        ``features.npz`` contents (the references).
    against : dict
        ``attribution.against``.
    hrf, tr :
        The temporal model.

    Returns
    -------
    ndarray (n_couplings,)
        NaN for a coupling whose stream competes with no reference.
    """
    from vlmbrain.attribution.features import reference_key
    from vlmbrain.simulation.bold import coupling_signal

    runs = rows["run"].to_numpy()[keep]
    out = np.full(len(truth), np.nan)
    for i, c in enumerate(truth.itertuples()):
        names = against.get(c.stream, [])
        if not names:
            continue
        ok = arrays["ans"][i] >= 0
        X = get_layer(c.model, c.stream, int(c.layer))
        s = coupling_signal(X, rows, arrays["ans"][i][ok], arrays["weights"][i][ok], hrf, tr)
        out[i] = planted_unique_share(s[keep], [features[reference_key(n)] for n in names], runs)
    return out
