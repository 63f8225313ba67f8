"""The four findings (prediction, redundancy, polarity, architecture), recovery and figures.

Modules
-------
inputs
    The configured (model, stream, layer) index and readers of group and atom files.
network_overlap
    ``network_overlap.tsv``: every atom map against every network, for all layers.
tables
    The findings tables computed from group maps, codes and the overlap table.
recovery
    Planted against found couplings (simulation only).
line_figures
    Line figures of the findings across layers, streams and models.
brainmaps
    Surface maps (fs_LR 32k inflated, both hemispheres, lateral and medial).
depth
    Each grayordinate's preferred layer per model and stream (best held-out r, kept where
    significant across subjects).
"""
