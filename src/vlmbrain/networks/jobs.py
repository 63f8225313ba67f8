"""The job of the networks rule, named for it."""

from __future__ import annotations

import logging

from vlmbrain.networks.templates import write_networks

log = logging.getLogger("vlmbrain")

__all__ = ["networks"]


def networks(*, npz, dlabel, template, mapping):
    """Rule ``networks``: masks of the mapped networks (npz) and their CIFTI dlabel.

    Parameters
    ----------
    npz, dlabel : str
        Output files.
    template : str
        ``networks.template``.
    mapping : dict
        ``networks.mapping``: network name -> template labels.
    """
    names, masks = write_networks(npz, dlabel, template=template, mapping=mapping)
    for name, mask in zip(names, masks):
        log.info("network %s: %d grayordinates", name, mask.sum())
