"""One subject's variance partitioning of every layer of one model against its references.

For each layer of a stream, the joint banded ridge ``[layer, references]`` (the references
the stream competes with form one band) and the stream alone are fitted leave-one-run-out
(:mod:`vlmbrain.attribution.banded`); the references alone are fitted once per subject and
reference set. Held-out R^2 per
grayordinate gives the stream's unique part ``R2(joint) - R2(references)`` and the shared
part ``R2(stream) + R2(references) - R2(joint)``.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.attribution.banded import default_deltas, reference_r2, variance_partition
from vlmbrain.attribution.features import feature_key, feature_layers, reference_key
from vlmbrain.attribution.keys import MAPS, map_key, reference_set_key
from vlmbrain.io import layer_name

log = logging.getLogger("vlmbrain")

__all__ = ["partition_model"]

def partition_model(Y, runs, features, model, against, alphas, n_ratios=5, log10_span=2.0,
                    **solver):
    """Unique and shared held-out R^2 of every layer of one model in one subject.

    Parameters
    ----------
    Y : ndarray (T, V)
        The subject's BOLD, z-scored per run (kept TRs).
    runs : array (T,)
        Run of each row.
    features : mapping
        ``features.npz`` contents (:func:`vlmbrain.attribution.features.feature_key`,
        :func:`~vlmbrain.attribution.features.reference_key`).
    model : str
    against : dict
        Stream name -> names of the references it competes with (``attribution.against``).
    alphas : sequence of float
    n_ratios, log10_span :
        Candidate kernel-weight grid (:func:`vlmbrain.attribution.banded.default_deltas`).
    **solver
        ``chunk_size``, ``backend`` (:func:`vlmbrain.stats.backend.get_backend`),
        ``blas_threads`` of the banded ridge.

    Returns
    -------
    dict of ndarray (V,) float32
        :func:`map_key` ``(stream, layer, kind)`` for ``kind`` in :data:`MAPS`, and
        :func:`reference_set_key` of each reference set used.
    """
    layers = feature_layers(features, model)
    if not layers:
        raise ValueError(f"the feature file has no layer of model {model!r}; rerun attribution_features")
    missing = sorted({s for s, _ in layers} - set(against))
    if missing:
        raise ValueError(
            f"attribution.against has no entry for stream(s) {missing} of model {model!r}; "
            "name the references each stream competes with"
        )
    out, ref_r2 = {}, {}
    for stream, layer in tqdm(layers, desc=f"attribution {model}", mininterval=5):
        names = list(against[stream])
        for name in names:
            if reference_key(name) not in features:
                raise ValueError(f"the feature file has no reference {name!r}; rerun attribution_features")
        # The references a stream competes with form one band (a fusion stream's image and
        # text references together): two bands, so n_ratios candidates, for every stream.
        reference = np.hstack([features[reference_key(name)] for name in names])
        set_key = reference_set_key(names)
        if set_key not in ref_r2:
            ref_r2[set_key] = reference_r2([reference], Y, runs, alphas, **solver)["r2"]
        res = variance_partition(
            features[feature_key(model, stream, layer)], [reference], Y, runs, alphas,
            deltas=default_deltas(2, n_ratios, log10_span), r2_reference=ref_r2[set_key],
            **solver,
        )
        for kind in MAPS:
            out[map_key(stream, layer, kind)] = np.asarray(res[kind], np.float32)
        log.info("%s %s %s: mean unique R2 %.4f, shared %.4f", model, stream, layer_name(layer),
                 float(np.nanmean(res["unique"])), float(np.nanmean(res["shared"])))
    out.update({k: np.asarray(v, np.float32) for k, v in ref_r2.items()})
    return out
