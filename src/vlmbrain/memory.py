"""Memory guard: the big jobs estimate their memory need from input sizes before loading.

The sizes come from headers only (BOLD headers, the stimulus tables, the headers of
``.npy`` arrays and of the arrays inside ``.npz`` files), never from loading the data.
Each estimate is the sum of the arrays that are alive together at the job's peak, in
bytes, plus :data:`BASELINE_MB` for the interpreter and its libraries; the factors follow
the code that allocates them (``vlmbrain.fmri.bold.load_subject_bold``,
``vlmbrain.stats.glm.ar1_glm``, ``vlmbrain.encoding.ridge.ridge_loro``, the banded ridge,
the per-neuron encoders) and are checked in the tests against the peak the jobs really
allocate (tracemalloc). When the estimate exceeds the rule's ``resources.mem_mb`` (passed
to the job function), the job stops before loading anything, with the estimate, its
parts and the fix: a cluster kills a job that outgrows its request, hours later and
without a word about memory.
"""

from __future__ import annotations

import logging
import math
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger("vlmbrain")

MB = 1 << 20
BASELINE_MB = 400  # the interpreter, numpy, scipy, pandas, nibabel and the job's own objects
F32, F64 = 4, 8


class MemoryNeedError(MemoryError):
    """A job's estimated memory need exceeds its ``mem_mb``."""


def npy_shape(path):
    """Shape of a ``.npy`` array from its header (nothing else is read)."""
    with open(path, "rb") as fh:
        return _header_shape(fh)


def npz_shapes(path):
    """``{name: shape}`` of the arrays of an uncompressed or compressed ``.npz`` file,
    from their headers."""
    shapes = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as fh:
                shapes[name.removesuffix(".npy")] = _header_shape(fh)
    return shapes


def _header_shape(fh):
    version = np.lib.format.read_magic(fh)
    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
            else np.lib.format.read_array_header_2_0)
    shape, _, _ = read(fh)
    return tuple(int(n) for n in shape)


def bold_sizes(bold, tables, drop_rest=True, mask=None):
    """Sizes of one subject's BOLD from the headers and the stimulus tables.

    Returns
    -------
    dict
        ``n_trs`` (TRs per run, from the BOLD headers), ``kept`` (kept TRs per run, from
        the tables), ``V`` (grayordinates or mask voxels).
    """
    from vlmbrain.fmri.bold import bold_header
    from vlmbrain.stimuli.table import kept_rows, read_timing

    n_trs, V = [], None
    for path in bold:
        n, _, V = bold_header(path, mask)
        n_trs.append(int(n))
    kept = [int(kept_rows(read_timing([t]), drop_rest).sum()) for t in tables]
    return {"n_trs": n_trs, "kept": kept, "V": int(V)}


def load_bytes(sizes):
    """Peak of :func:`vlmbrain.fmri.bold.load_subject_bold`: the subject's z-scored BOLD,
    allocated once and filled run by run, next to the run being read (a NIfTI run's
    image, its voxels and their contiguous copy; a CIFTI run's array; the non-finite
    masks when a value is not finite) and one run's buffer for the squares of the
    z-scoring; and two brain-model axes (the first run's, kept to compare, and the one
    read: NIfTI data build theirs from the mask each time, about 220 bytes a voxel)."""
    V, kept, n_trs = sizes["V"], sum(sizes["kept"]), max(sizes["n_trs"])
    arrays = F32 * kept * V + (3 * F32 + 2) * n_trs * V + F32 * max(sizes["kept"]) * V
    return arrays + 2 * 240 * V


def subject_bold_bytes(sizes):
    """One subject's BOLD (kept TRs x V, float32) once loaded."""
    return F32 * sum(sizes["kept"]) * sizes["V"]


def encoding_parts(sizes, atoms, chunk_size, n_alphas):
    """Parts of the ``encoding`` job's peak (bytes), from the BOLD sizes and the atoms'
    shapes (``[(T, K), ...]`` per layer)."""
    V, T = sizes["V"], sum(sizes["kept"])
    K = max(k for _, k in atoms)
    p = K + 1
    c = min(int(chunk_size), V)
    n_runs = len(sizes["kept"])
    blocks = n_runs if n_runs > 2 else 10
    fit = F32 * (2 * p * V + 2 * n_runs * V) + F64 * 2 * V  # beta, t, r and alpha per fold
    chunk = 3 * F32 * T * c + F64 * c * (3 * p + blocks * (K + 3) + n_alphas + 8 * K)
    return {
        f"BOLD while loading ({T} kept TRs x {V} grayordinates)": load_bytes(sizes),
        f"BOLD ({T} x {V}) with one layer's fit ({p} regressors) and a chunk of "
        f"{c} grayordinates": subject_bold_bytes(sizes) + fit + chunk,
    }


def noise_ceiling_parts(sizes):
    """Parts of the ``noise_ceiling`` job's peak: the loaded BOLD and its repeats."""
    V, T = sizes["V"], sum(sizes["kept"])
    return {
        f"BOLD while loading ({T} kept TRs x {V} grayordinates)": load_bytes(sizes),
        f"BOLD ({T} x {V}) and the validation repeats": 3 * subject_bold_bytes(sizes),
    }


def attribution_parts(sizes, features, n_layers, chunk_size, n_alphas, n_candidates):
    """Parts of the ``attribution_subject`` job's peak, from the BOLD sizes, the feature
    spaces' shapes (``{key: (T, k)}``) and the model's number of layers."""
    V, T = sizes["V"], sum(sizes["kept"])
    n_runs = len(sizes["kept"])
    c = min(int(chunk_size), V)
    widths = sorted(k for _, k in features.values())
    P = sum(widths[-3:])  # a layer and its references, the widest
    feats = F32 * sum(t * k for t, k in features.values())
    maps = F32 * (4 * n_layers + 2) * V
    chunk = F64 * c * ((n_runs + 4) * P + n_runs * n_candidates * n_alphas + 3 * n_runs) + 2 * F32 * T * c
    return {
        f"BOLD while loading ({T} kept TRs x {V} grayordinates)": load_bytes(sizes) + feats,
        f"BOLD ({T} x {V}), the feature spaces, {n_layers} layers' maps and a chunk of {c} "
        "grayordinates": subject_bold_bytes(sizes) + feats + maps + chunk,
    }


def parcel_bold_parts(sizes, n_parcels):
    """Parts of the ``neurons_parcel_bold`` job's peak."""
    V, T = sizes["V"], sum(sizes["kept"])
    return {
        f"BOLD while loading ({T} kept TRs x {V} grayordinates)": load_bytes(sizes),
        f"BOLD ({T} x {V}) and its parcel averages": 2 * subject_bold_bytes(sizes)
        + F64 * T * n_parcels,
    }


def cohort_bold_parts(sizes):
    """Parts of the ``neurons_cohort_bold`` job's peak
    (:func:`vlmbrain.neurons.cohort.cohort_mean`): the running sum (float64) and count
    (uint16) next to one subject while it is loaded, then added with its mask of data;
    at the end the sum, the counts, the mask of elements without data and the float32
    mean."""
    V, T = sizes["V"], sum(sizes["kept"])
    running = (F64 + 2) * T * V
    return {
        f"one subject's BOLD while loading ({T} kept TRs x {V} grayordinates) and the "
        "running sum": load_bytes(sizes) + running,
        "the running sum while a subject is added": running + (F32 + 1) * T * V,
        "the mean": running + (2 + 1 + F32) * T * V,
    }


def neurons_subject_parts(T, n_parcels, layers):
    """Parts of the ``neurons_subject`` job's peak: the parcel series, one layer's
    regressors and pairwise fits, and every layer's z and t kept for the output."""
    N = max(layers)
    kept = 2 * F32 * n_parcels * sum(layers)
    fit = F64 * (3 * T * (N + n_parcels) + 24 * N * n_parcels)  # some 20 N x P arrays
    return {
        f"{len(layers)} layers' z and t (up to {N} ANs x {n_parcels} parcels) and one "
        "layer's pairwise fit": kept + fit + F32 * T * N,
    }


def grayordinates_parts(T, V, layers, chunk_size):
    """Parts of the ``neurons_grayordinates`` job's peak: the cohort BOLD, its filled and
    unit columns and their periodogram (with its complex FFT), then one layer's regressors
    and a chunk of correlations."""
    N = max(layers)
    c = min(int(chunk_size), V)
    bins = T // 2 + 1
    return {
        f"cohort BOLD ({T} x {V}), its unit columns and their periodogram": 3 * F32 * T * V
        + (16 + F64) * bins * V,
        f"cohort BOLD, unit columns and periodogram, a layer of {N} ANs and a chunk of {c} "
        "grayordinates": 2 * F32 * T * V + F64 * bins * V + 3 * F64 * T * N
        + 8 * F32 * N * c + (F32 + 8) * 2 * V,
    }


def estimate_mb(parts):
    """The estimate in MB: the largest part (the job's phases do not overlap) plus the
    baseline."""
    return BASELINE_MB + max(parts.values()) / MB


def check_memory(rule, parts, mem_mb, fix=""):
    """Refuse to start a job whose estimated need exceeds its ``mem_mb``.

    Parameters
    ----------
    rule : str
        The rule, for the message.
    parts : dict
        ``{description: bytes}`` of the job's phases (:func:`estimate_mb`).
    mem_mb : int or None
        The rule's ``resources.mem_mb``; None (a job function called outside the
        workflow) only logs the estimate.
    fix : str
        What else lowers the need (a chunk size), for the message.

    Returns
    -------
    float
        The estimate in MB.

    Raises
    ------
    MemoryNeedError
        With the estimate, its largest part, ``mem_mb`` and the fix.
    """
    need = estimate_mb(parts)
    largest = max(parts, key=parts.get)
    log.info("%s: estimated memory need %.1f MB (mem_mb %s): %s, %.1f MB, plus %d MB baseline",
             rule, need, mem_mb, largest, parts[largest] / MB, BASELINE_MB)
    if mem_mb is not None and need > float(mem_mb):
        suggest = int(math.ceil(need * 1.2 / 1000.0) * 1000)
        raise MemoryNeedError(
            f"{rule}: needs about {need:,.0f} MB, more than its mem_mb of {float(mem_mb):,.0f} MB "
            f"(estimated from the input sizes before loading anything: {largest}, "
            f"{parts[largest] / MB:,.0f} MB, plus {BASELINE_MB} MB for the interpreter and "
            f"libraries). Give the rule more memory (e.g. snakemake --set-resources "
            f"{rule}:mem_mb={suggest}, or in your profile){' or ' + fix if fix else ''}."
        )
    return need


def layer_shapes(folder, suffix=".npy", key=None):
    """Shapes of every layer file of a per-layer folder (``stream/layer-LL{suffix}``):
    ``.npy`` headers, or the array ``key`` of each ``.npz``."""
    shapes = []
    for path in sorted(Path(folder).glob(f"*/layer-*{suffix}")):
        shapes.append(npy_shape(path) if suffix == ".npy" else npz_shapes(path)[key])
    return shapes
