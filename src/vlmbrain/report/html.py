"""Minimal self-contained HTML pages (no scripts, no external resources)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from vlmbrain.io import atomic_path

# Report categories, in reading order; rules of every stage use these names in report().
CATEGORIES = {
    "networks": "0. Networks",
    "prediction": "1. Prediction",
    "redundancy": "2. Redundancy",
    "polarity": "3. Polarity",
    "architecture": "4. Architecture",
    "brain_maps": "5. Brain maps",
    "neurons": "6. Neurons",
    "attribution": "7. Attribution (unique variance)",
    "recovery": "Simulation recovery",
    "provenance": "Provenance",
}

STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f0f0f0; text-align: left; } td.text { text-align: left; }
tr.hit td { background: #dff0d8; } tr.miss td { background: #f2dede; }
tr.false-positive td { background: #fcf0d5; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 12px; }
p.note { color: #555; }
"""


def html_table(frame, float_format="{:.3g}", row_class=None):
    """Render a DataFrame as an HTML table.

    Parameters
    ----------
    frame : DataFrame
    float_format : str
        Format of floating-point cells (NaN shown as ``n/a``).
    row_class : str, optional
        Column whose value (spaces as dashes) becomes each row's CSS class.

    Returns
    -------
    str
    """
    frame = pd.DataFrame(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for value in row:
            if isinstance(value, (float, np.floating)):
                text = "n/a" if not np.isfinite(value) else float_format.format(value)
                cells.append(f"<td>{text}</td>")
            elif isinstance(value, (bool, np.bool_, int, np.integer)):
                cells.append(f"<td>{html.escape(str(value))}</td>")
            else:
                cells.append(f'<td class="text">{html.escape(str(value))}</td>')
        cls = ""
        if row_class is not None:
            cls = f' class="{html.escape(str(row[row_class]).replace(" ", "-"))}"'
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title, sections):
    """A complete HTML page.

    Parameters
    ----------
    title : str
    sections : list of (str, str)
        Section headings and their HTML bodies.

    Returns
    -------
    str
    """
    parts = [f"<h2>{html.escape(h)}</h2>\n{body}" for h, body in sections]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>\n" + "\n".join(parts) + "</body></html>\n"
    )


def write_page(path, title, sections):
    """Write :func:`page` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(page(title, sections), encoding="utf-8")
