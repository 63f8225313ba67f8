"""Targets without data: the one convention for a grayordinate excluded for a subject.

A subject's BOLD holds an all-NaN column where a grayordinate is excluded (non-finite or
constant data; :func:`vlmbrain.fmri.bold.load_subject_bold`). Every estimator that fits
targets column by column fits the others as if that column were absent and returns NaN
there, never 0: :func:`fill_missing` gives the chunk it can compute on and the columns to
blank afterwards.
"""

from __future__ import annotations

import numpy as np

__all__ = ["missing_columns", "fill_missing"]


def missing_columns(Y):
    """Columns of ``Y`` (T x V) without data: those holding any NaN -> (V,) bool."""
    Y = np.asarray(Y)
    if Y.shape[0] == 0:
        return np.zeros(Y.shape[1:], bool)
    return np.isnan(Y).any(axis=0)


def fill_missing(Y):
    """``Y`` with its missing columns set to 0, and the missing mask.

    Parameters
    ----------
    Y : ndarray (T, V)

    Returns
    -------
    filled : ndarray (T, V)
        ``Y`` itself when no column is missing, else a copy with those columns 0 (so that
        sums and products over time stay finite and leave the other columns untouched).
    missing : ndarray (V,) bool
    """
    Y = np.asarray(Y)
    missing = missing_columns(Y)
    if not missing.any():
        return Y, missing
    filled = np.array(Y, copy=True)
    filled[:, missing] = 0
    return filled, missing
