"""Report pieces: plain self-contained HTML pages (tables, provenance) for ``snakemake --report``.

Figures and tables reach the report through ``report(...)`` in the rules that make them
(categories in :data:`vlmbrain.report.html.CATEGORIES`); the pages built here are HTML
files marked the same way, so any stage can add one with :func:`vlmbrain.report.html.page`.
"""
