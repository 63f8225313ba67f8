"""The jobs of the encoding rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments, and calls the library below it (``atoms``, ``subject``, ``group``).
"""

from __future__ import annotations

from vlmbrain.encoding.atoms import build_atoms
from vlmbrain.encoding.group import group_model
from vlmbrain.encoding.subject import encode_subject, subject_noise_ceiling
from vlmbrain.fmri.bold import brain_models_of
from vlmbrain.io import single

__all__ = ["atoms", "encoding", "noise_ceiling", "group"]


def atoms(*, model, activations, tables, regressors, atoms, tr, hrf, drop_rest, n_atoms,
          alpha, max_iter, batch_size, seed):
    """Rule ``atoms``: regressors and sparse dictionary atoms of one model.

    Parameters
    ----------
    model : str
        Model key.
    activations : str
        ``activations/{model}`` folder.
    tables : list of str
        Stimulus tables, in run order.
    regressors, atoms : str
        Output folders ``regressors/{model}`` and ``atoms/{model}``.
    tr : float
    hrf : str
        ``temporal.hrf``.
    drop_rest : bool
        ``temporal.drop_rest``.
    n_atoms, alpha, max_iter, batch_size, seed
        ``sdl.*``.
    """
    build_atoms(
        model,
        activations,
        list(tables),
        regressors,
        atoms,
        tr=tr,
        temporal={"hrf": hrf, "drop_rest": drop_rest},
        sdl={"n_atoms": n_atoms, "alpha": alpha, "max_iter": max_iter,
             "batch_size": batch_size, "seed": seed},
    )


def encoding(*, bold, tables, atoms, encoding, tr, drop_rest, chunk_size, ar_bins,
             ridge_alphas, mask=()):
    """Rule ``encoding``: AR(1) GLM and ridge prediction of one subject and model.

    Parameters
    ----------
    bold : list of str
        The subject's BOLD runs, in run order.
    tables : list of str
    atoms : str
        ``atoms/{model}`` folder.
    encoding : str
        Output folder ``encoding/sub-{subject}/{model}``.
    tr : float
    drop_rest : bool
    chunk_size, ar_bins, ridge_alphas
        ``encoding.*``.
    mask : list of str
        ``[data.mask]`` (NIfTI brain mask) or empty.
    """
    encode_subject(
        list(bold),
        list(tables),
        atoms,
        encoding,
        tr=tr,
        temporal={"drop_rest": drop_rest},
        encoding={"chunk_size": chunk_size, "ar_bins": ar_bins, "ridge_alphas": ridge_alphas},
        mask=single(mask),
    )


def noise_ceiling(*, bold, tables, ceiling, tr, drop_rest, mask=()):
    """Rule ``noise_ceiling``: one subject's validation-clip noise ceiling (``.npy``)."""
    subject_noise_ceiling(
        list(bold), list(tables), ceiling, tr=tr, temporal={"drop_rest": drop_rest},
        mask=single(mask),
    )


def group(*, encoding, geometry, group, q, atom_maps, mask=()):
    """Rule ``group``: group t maps, FDR and activated/deactivated masks of one model.

    Parameters
    ----------
    encoding : list of str
        ``encoding/sub-{subject}/{model}`` of every subject.
    geometry : str
        One BOLD file (its grayordinates or voxels place the CIFTI maps).
    group : str
        Output folder ``group/{model}``.
    q : float
        ``group.fdr_q``.
    atom_maps : bool
        ``group.atom_maps``.
    mask : list of str
        ``[data.mask]`` or empty.
    """
    group_model(
        list(encoding),
        group,
        q=q,
        atom_maps=atom_maps,
        bm_axis=brain_models_of(geometry, single(mask)),
    )
