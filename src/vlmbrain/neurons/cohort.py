"""Grayordinate-level per-AN encoding of the whole cohort, kept compact.

Every AN of a layer is correlated with every grayordinate of the cohort's BOLD target
(the subjects' z-scored BOLD averaged; see :func:`cohort_mean`), significance comes from the
circular-shift null (:mod:`vlmbrain.neurons.null`) with BH-FDR over all AN x grayordinate
pairs of the layer. The N x V matrices are computed in chunks of grayordinates and never
kept: only per-AN counts (per network and sign), per-grayordinate counts (per sign) and the
p-values that can pass FDR (p <= q) survive a chunk. The two GEMMs of a chunk run on the
array backend passed as ``backend`` (:mod:`vlmbrain.stats.backend`: numpy, or torch on a
device), the rest in numpy on the host.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import ndtr, ndtri

from vlmbrain.stats import bh_threshold, enrichment_p, fdr_mask, fill_missing
from vlmbrain.stats.backend import NumpyBackend
from vlmbrain.neurons.null import (
    _periodogram,
    _weighted_periodogram,
    circular_null_z,
    empirical_pvalues,
    unit_columns,
)

__all__ = ["cohort_mean", "GrayordinateEncoder"]


def cohort_mean(bolds):
    """Mean of the subjects' T x V BOLD arrays, added one at a time (float32 out).

    Parameters
    ----------
    bolds : iterable of arrays, T x V
        One array per subject (e.g. a generator that loads them in turn), so that at most
        one subject is in memory besides the running sum (float64) and the count of
        subjects without data (uint16). NaN marks a subject without data there (a
        grayordinate excluded for it): each element averages the subjects with data, and
        is NaN where none has.
    """
    total = lacking = None
    n, shape = 0, None
    for bold in bolds:
        bold = np.asarray(bold, dtype=np.float32)
        if total is None:
            total, shape = np.zeros(bold.shape, dtype=np.float64), bold.shape
            lacking = np.zeros(bold.shape, dtype=np.uint16)
        elif bold.shape != shape:
            raise ValueError(f"subject {n + 1} has BOLD shape {bold.shape}, the first {shape}")
        missing = np.isnan(bold)
        if missing.any():
            lacking += missing
            np.logical_not(missing, out=missing)
            np.add(total, bold, out=total, where=missing)
        else:
            total += bold
        n += 1
        del bold, missing  # before the next subject is loaded
    if n == 0:
        raise ValueError("no subject given")
    if n > np.iinfo(np.uint16).max:
        raise ValueError(f"{n} subjects: at most {np.iinfo(np.uint16).max}")
    count = np.subtract(n, lacking, dtype=np.uint16)
    del lacking
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(total, count, out=total)
    total[count == 0] = np.nan
    return total.astype(np.float32)


class GrayordinateEncoder:
    """Per-AN encoding of one target (T x V) at grayordinate resolution.

    Parameters
    ----------
    target : array, T x V
        BOLD target (the cohort mean). All-NaN columns are grayordinates without data
        (no subject has any): they are not tested (never significant, outside the FDR
        family and the enrichment's population).
    masks : array of bool, K x V
        Network masks.
    q : float
        BH-FDR level over all AN x grayordinate pairs of a layer.
    chunk_size : int
        Grayordinates per chunk (memory is about 6 x N x chunk_size x 4 bytes).
    n_shifts : int
        Random circular shifts of the calibration sample (empirical vs analytic p).
    calibration_size : int
        ANs and grayordinates in the calibration sample (each).
    seed : int
        Seed of the calibration sample.
    enrichment_q : float
        FDR level of the AN x network enrichment (``networks.enrichment_q``).
    backend : NumpyBackend or TorchBackend, optional
        Where the GEMMs run (:func:`vlmbrain.stats.backend.get_backend`; default numpy).

    Notes
    -----
    The target's centred unit columns and periodogram do not depend on the layer: they are
    computed once here and reused by :meth:`encode` for every layer.
    """

    def __init__(
        self,
        target,
        masks,
        q=0.05,
        chunk_size=8192,
        n_shifts=200,
        calibration_size=32,
        seed=0,
        enrichment_q=0.05,
        backend=None,
    ):
        target = np.asarray(target)
        self.masks = np.asarray(masks, dtype=bool)
        if self.masks.shape[1] != target.shape[1]:
            raise ValueError(
                f"network masks cover {self.masks.shape[1]} grayordinates, the BOLD "
                f"{target.shape[1]}"
            )
        self.T, self.V = target.shape
        self.q, self.chunk_size = float(q), int(chunk_size)
        self.n_shifts, self.calibration_size, self.seed = n_shifts, calibration_size, seed
        self.enrichment_q = float(enrichment_q)
        filled, missing = fill_missing(target)
        self.valid = ~missing
        self.n_valid = int(self.valid.sum())
        if self.n_valid == 0:
            raise ValueError("the cohort BOLD has no grayordinate with data (all NaN)")
        self.target = target
        self.be = NumpyBackend() if backend is None else backend
        unit = unit_columns(filled, np.float32)  # missing columns: 0, so r = z = 0
        self.unit = self.be.asarray(unit, np.float32)
        self.power = self.be.asarray(_periodogram(unit), np.float32)

    def encode(self, X):
        """Encode the ANs ``X`` (T x N) of one layer.

        Returns
        -------
        dict
            ``an_counts`` (N x K x 2 int32: significant grayordinates per network, positive
            then negative), ``an_total`` (N x 2), ``bn_counts`` (2 x V int32: significant
            ANs per grayordinate, positive then negative), ``an_enriched`` (N x K x 2 bool:
            the AN's significant grayordinates of that sign are enriched in the network,
            hypergeometric test, BH-FDR over ANs x networks x signs at ``enrichment_q``;
            this, not a single grayordinate, is what "the AN reaches the network" means,
            since FDR lets a few false positives fall everywhere), ``best_r`` and ``best_z`` (N: the
            pair with the largest null-standardised |z|), ``threshold`` (BH p threshold, -1
            when none), ``n_tests``, ``calibration`` (mean |p_empirical - p_analytic| on a
            seeded sample of pairs, ``n_shifts`` shifts).
        """
        X = np.asarray(X)
        if X.shape[0] != self.T:
            raise ValueError(f"AN series have {X.shape[0]} time points, the target {self.T}")
        N, T = X.shape[1], self.T
        Xu = unit_columns(X, np.float32)
        Px = _weighted_periodogram(Xu, T)
        Xu, Px = self.be.asarray(Xu, np.float32), self.be.asarray(Px, np.float32)
        z_q = -ndtri(self.q / 2.0)  # |z| >= z_q  <=>  p <= q
        cand_n, cand_v, cand_p = [], [], []
        best_z = np.zeros(N, dtype=np.float32)
        best_r = np.zeros(N, dtype=np.float32)
        rows = np.arange(N)
        for start in range(0, self.V, self.chunk_size):
            stop = min(start + self.chunk_size, self.V)
            r, z2 = self._chunk_z2(Xu, Px, start, stop)
            col = z2.argmax(axis=1)
            zc = np.sign(r[rows, col]) * np.sqrt(z2[rows, col])
            better = np.abs(zc) > np.abs(best_z)
            best_z[better], best_r[better] = zc[better], r[rows, col][better]
            n_idx, v_idx = np.nonzero(z2 >= z_q * z_q)
            zs = np.sign(r[n_idx, v_idx]) * np.sqrt(z2[n_idx, v_idx].astype(np.float64))
            cand_n.append(n_idx.astype(np.int32))
            cand_v.append((v_idx + start).astype(np.int32))
            cand_p.append((np.sign(zs) * 2.0 * ndtr(-np.abs(zs))).astype(np.float32))
        cand_n, cand_v, cand_p = (np.concatenate(a) for a in (cand_n, cand_v, cand_p))
        n_tests = N * self.n_valid
        threshold = bh_threshold(np.abs(cand_p), n_tests, self.q)
        sig = np.abs(cand_p) <= threshold
        pos = sig & (cand_p > 0)
        neg = sig & (cand_p < 0)
        an_counts = np.zeros((N, len(self.masks), 2), dtype=np.int32)
        for k, mask in enumerate(self.masks):
            inside = mask[cand_v]
            an_counts[:, k, 0] = np.bincount(cand_n[pos & inside], minlength=N)
            an_counts[:, k, 1] = np.bincount(cand_n[neg & inside], minlength=N)
        an_total = np.stack(
            [np.bincount(cand_n[pos], minlength=N), np.bincount(cand_n[neg], minlength=N)], 1
        ).astype(np.int32)
        bn_counts = np.stack(
            [np.bincount(cand_v[pos], minlength=self.V), np.bincount(cand_v[neg], minlength=self.V)]
        ).astype(np.int32)
        return {
            "an_counts": an_counts,
            "an_enriched": self.enriched(an_counts, an_total),
            "an_total": an_total,
            "bn_counts": bn_counts,
            "best_r": best_r,
            "best_z": best_z,
            "threshold": threshold,
            "n_tests": n_tests,
            "calibration": self.calibrate(X),
        }

    def _chunk_z2(self, Xu, Px, start, stop):
        """r and the squared null-standardised z of one chunk, in place.

        Same statistic as :func:`~vlmbrain.neurons.null.null_z_from_spectra` with fewer
        passes over the N x chunk arrays: with m = -r / (T - 1) and the shift variance
        s^2 = S / (T (T - 1)) - r^2 T / (T - 1)^2 (S the Parseval sum),
        z^2 = (r - m)^2 / s^2 = T r^2 / (S (T - 1) / T^2 - r^2).
        """
        T = self.T
        r = self.be.to_numpy(Xu.T @ self.unit[:, start:stop])
        den = self.be.to_numpy(Px.T @ self.power[:, start:stop])
        den *= (T - 1) / (T * T)
        z2 = r * r
        den -= z2
        np.maximum(den, np.finfo(den.dtype).tiny, out=den)
        z2 *= T
        z2 /= den
        return r, z2

    def enriched(self, an_counts, an_total):
        """Hypergeometric enrichment of each AN's significant grayordinates per network."""
        sizes = (self.masks & self.valid[None, :]).sum(1)[None, :, None]
        drawn = an_total[:, None, :]
        p = enrichment_p(an_counts, self.n_valid, sizes, drawn)
        return fdr_mask(p, self.enrichment_q, axis=None)[1]

    def calibrate(self, X):
        """Mean |p_empirical - p_analytic| on a seeded sample of AN x grayordinate pairs."""
        rng = np.random.default_rng(self.seed)
        n = rng.choice(X.shape[1], size=min(self.calibration_size, X.shape[1]), replace=False)
        tested = np.flatnonzero(self.valid)
        v = rng.choice(tested, size=min(self.calibration_size, tested.size), replace=False)
        Xs, Ys = np.asarray(X)[:, np.sort(n)], self.target[:, np.sort(v)]
        n_shifts = min(self.n_shifts, self.T - 1)
        _, p_emp = empirical_pvalues(Xs, Ys, n_shifts, seed=self.seed)
        _, z = circular_null_z(Xs, Ys, dtype=np.float64)
        return float(np.abs(p_emp - 2.0 * ndtr(-np.abs(z))).mean())
