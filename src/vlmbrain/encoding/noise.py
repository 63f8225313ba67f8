"""Noise ceiling from the validation clip repeated in every run.

The segments table marks one clip as ``validation``: the same footage shown in every run
(HCP 7T: the last clip of each run; the simulation: ``simulation.validation_trs``). Its
repeats share the stimulus-driven signal and differ only in noise, so their agreement
bounds how well any model of the stimulus can predict a run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlmbrain.stimuli.table import run_slices

# Fewest TRs of a repeat for which a correlation between repeats means anything.
MIN_REPEAT_TRS = 3
CEILING_ARRAYS = ("ceiling", "reliability", "n_repeats", "n_trs", "note")


def validation_repeats(runs, validation, min_trs=MIN_REPEAT_TRS):
    """Rows of the validation clip in each run, cut to the shortest repeat.

    Parameters
    ----------
    runs : array (T,)
        Run label per row.
    validation : array of bool (T,)
        True on validation-clip rows.
    min_trs : int
        Fewest TRs per repeat.

    Returns
    -------
    rows : list of ndarray of int
        One array of row indices per run that holds the clip (runs without it are
        skipped), each of the same length; empty when the ceiling is undefined.
    note : str
        Why the ceiling is undefined (no repeated clip, a single repeat, repeats too
        short), or ``""``.
    """
    validation = np.asarray(validation, bool)
    reps, names = [], []
    for sl in run_slices(runs):
        rows = np.flatnonzero(validation[sl]) + sl.start
        if rows.size:
            reps.append(rows)
            names.append(str(np.asarray(runs)[sl.start]))
    if not reps:
        return [], (
            "no repeated clip: no TR is marked validation (the `validation` column of "
            "data.segments), so the data have no clip repeated across runs"
        )
    if len(reps) < 2:
        return [], (
            f"the validation clip is in one run only ({names[0]}); a noise ceiling needs it "
            "repeated in at least two runs"
        )
    n = min(r.size for r in reps)
    if n < min_trs:
        return [], (
            f"the validation clip has {n} modelled TR(s) in some run; at least {min_trs} are "
            "needed to correlate its repeats"
        )
    return [r[:n] for r in reps], ""


def noise_ceiling(Y, runs, validation, min_trs=MIN_REPEAT_TRS):
    """Per-grayordinate noise ceiling of a single-run prediction r.

    The mean Pearson r between every pair of repeats of the validation clip estimates
    the reliability rho of one repeat (signal variance over total variance, when the
    repeats share the signal and have independent noise of equal variance); a perfect
    model of the stimulus-driven signal reaches r = sqrt(rho) on one repeat, which is the
    ceiling (0 where rho <= 0; NaN where undefined: a grayordinate without data, or
    constant over a repeat).

    Parameters
    ----------
    Y : ndarray (T, V)
        NaN columns are grayordinates without data (:mod:`vlmbrain.stats.missing`).
    runs : array (T,)
        Run label per row.
    validation : array of bool (T,)
        True on validation-clip rows.
    min_trs : int
        Fewest TRs per repeat.

    Returns
    -------
    dict
        ``ceiling`` (V, float32; NaN when undefined), ``reliability`` (V, float32, the
        mean pairwise r, unclipped), ``n_repeats`` and ``n_trs`` (repeats used and TRs
        per repeat; 0 when undefined) and ``note`` (why the ceiling is undefined, else
        ``""``).
    """
    rows, note = validation_repeats(runs, validation, min_trs)
    v = Y.shape[1]
    if not rows:
        nan = np.full(v, np.nan, np.float32)
        return {"ceiling": nan, "reliability": nan.copy(), "n_repeats": 0, "n_trs": 0,
                "note": note}
    reps = np.stack([np.asarray(Y[r], np.float32) for r in rows])  # repeats x TRs x V
    z = reps - reps.mean(1, keepdims=True)
    norm = np.sqrt((z**2).sum(1, keepdims=True))
    undefined = ~(norm > 0).all(axis=0)[0]  # constant over a repeat, or NaN
    z = np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)
    n = z.shape[0]
    total = np.zeros(v)
    for i in range(n):
        for j in range(i + 1, n):
            total += (z[i] * z[j]).sum(0)
    rho = total / (n * (n - 1) / 2)
    rho[undefined] = np.nan
    return {
        "ceiling": np.sqrt(np.clip(rho, 0, None)).astype(np.float32),
        "reliability": rho.astype(np.float32),
        "n_repeats": n,
        "n_trs": int(z.shape[1]),
        "note": "",
    }


def read_noise_ceiling(path, n_grayordinates=None):
    """Read one subject's noise ceiling (``encoding/sub-{subject}/noise_ceiling.npz``).

    Parameters
    ----------
    path : str or Path
    n_grayordinates : int, optional
        Expected V; checked when given.

    Returns
    -------
    dict
        As returned by :func:`noise_ceiling`.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, when it is missing, lacks an array or has another V.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: noise ceiling missing; run the `noise_ceiling` rule")
    with np.load(path) as data:
        missing = [k for k in CEILING_ARRAYS if k not in data.files]
        if missing:
            raise ValueError(
                f"{path}: missing arrays {missing} (expected {list(CEILING_ARRAYS)}); rerun "
                "the `noise_ceiling` rule"
            )
        out = {
            "ceiling": data["ceiling"].astype(np.float32),
            "reliability": data["reliability"].astype(np.float32),
            "n_repeats": int(data["n_repeats"]),
            "n_trs": int(data["n_trs"]),
            "note": str(data["note"]),
        }
    if n_grayordinates is not None and out["ceiling"].shape != (n_grayordinates,):
        raise ValueError(
            f"{path}: {out['ceiling'].shape[0]} grayordinates but the network template has "
            f"{n_grayordinates}; the noise ceiling and networks come from different spaces"
        )
    return out


def signed_root(reliability):
    """sign(rho) * sqrt(|rho|): the ceiling on a correlation's scale, kept signed.

    Averaged over grayordinates where the repeats share nothing, it is about 0, whereas
    sqrt(max(rho, 0)) averages to a positive bias (about 0.2 with 3 repeats of 8 TRs);
    where rho > 0 it equals the ceiling.
    """
    rho = np.asarray(reliability, np.float64)
    return (np.sign(rho) * np.sqrt(np.abs(rho))).astype(np.float32)


def group_noise_ceiling(ceilings, subjects):
    """Every subject's signed noise ceiling, defined only when every subject's is.

    Parameters
    ----------
    ceilings : list of dict
        Each subject's :func:`read_noise_ceiling`.
    subjects : list of str

    Returns
    -------
    signed : ndarray (n_subjects, V) float32
        :func:`signed_root` of each subject's reliability (the same subjects as the group
        mean held-out r), so that averages over a network are not biased upwards by
        grayordinates without a reliable response; NaN everywhere when a subject has no
        ceiling.
    note : str
        Why it is NaN (each distinct reason with its subjects), else ``""``.
    """
    missing = {}
    for subject, c in zip(subjects, ceilings, strict=True):
        if c["note"]:
            missing.setdefault(c["note"], []).append(subject)
    if missing:
        note = "; ".join(f"{reason} (sub-{', sub-'.join(subs)})" for reason, subs in missing.items())
        shape = (len(ceilings), ceilings[0]["ceiling"].shape[0])
        return np.full(shape, np.nan, np.float32), note
    return np.stack([signed_root(c["reliability"]) for c in ceilings]), ""
