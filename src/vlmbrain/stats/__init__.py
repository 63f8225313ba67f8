"""Statistics used by every stage: the AR(1) GLM, group tests, FDR and the significance cut.

- :mod:`vlmbrain.stats.glm`: :func:`ar1_glm` ``(Y, X, bins)`` (full design or, with
  ``pairwise=True``, every regressor alone), Pearson r and Fisher z.
- :mod:`vlmbrain.stats.inference`: :class:`OneSampleT` (streamed over subjects; ordinary or
  moderated t, :func:`moderate`),
  :func:`sign_flip_test`, :func:`enrichment_p` (hypergeometric), :func:`fdr_bh`, :func:`significant`, :func:`bh_threshold`.
- :mod:`vlmbrain.stats.missing`: targets without data (all-NaN columns) and
  :func:`fill_missing`, the chunk an estimator computes on before blanking them.

One convention everywhere: a statistic that is undefined (a target without data, a
constant series, fewer than two subjects) is NaN, never 0.
"""

from vlmbrain.stats.glm import add_intercept, ar1_glm, bin_ar1, center, fisher_z, pearson
from vlmbrain.stats.inference import (
    OneSampleT,
    bh_threshold,
    enrichment_p,
    fdr_bh,
    fdr_mask,
    moderate,
    one_sample_t,
    sign_flip_test,
    sign_patterns,
    significant,
)
from vlmbrain.stats.missing import fill_missing, missing_columns

__all__ = [
    "OneSampleT",
    "add_intercept",
    "ar1_glm",
    "bh_threshold",
    "bin_ar1",
    "enrichment_p",
    "center",
    "fdr_bh",
    "fdr_mask",
    "fill_missing",
    "fisher_z",
    "missing_columns",
    "moderate",
    "one_sample_t",
    "pearson",
    "sign_flip_test",
    "sign_patterns",
    "significant",
]
