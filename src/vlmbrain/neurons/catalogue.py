"""The neuron catalogue: one row per AN, its networks, signs, strength and atoms.

Also the per-network neuron-level summary (joined with the findings' redundancy and
polarity tables), the planted-AN enrichment of the simulation and a searchable HTML table.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from vlmbrain.io import layer_name, read_tsv

__all__ = [
    "KEYS",
    "atom_memberships",
    "build_catalogue",
    "network_summary",
    "planted_enrichment",
    "catalogue_html",
]

KEYS = ["model", "stream", "layer", "head", "dim", "column"]


def atom_memberships(atoms_npz):
    """Per AN of one layer, its atoms (nonzero codes) and code signs.

    Returns
    -------
    DataFrame
        ``column``, ``n_atoms``, ``atoms`` (comma-separated atom indices) and ``code_signs``
        (``+``/``-`` per listed atom), one row per AN.
    """
    with np.load(atoms_npz) as data:
        if "codes" not in data:
            raise ValueError(f"{atoms_npz}: no 'codes' array (K x N); rerun the atoms rule")
        codes = np.asarray(data["codes"])
    member = codes.T != 0  # N x K
    k = np.arange(codes.shape[0]).astype(str)
    sign = np.where(codes.T > 0, "+", "-")
    atoms = [",".join(k[m]) for m in member]
    signs = [",".join(s[m]) for s, m in zip(sign, member)]
    return pd.DataFrame(
        {
            "column": np.arange(codes.shape[1]),
            "n_atoms": member.sum(1),
            "atoms": atoms,
            "code_signs": signs,
        }
    )


def build_catalogue(ans_tables, network_names, atoms_dirs=None, grayordinate_tables=()):
    """Assemble the catalogue from the group jobs' per-AN tables.

    Parameters
    ----------
    ans_tables : list of DataFrame or paths
        ``neurons/{model}/ans.tsv`` of every model.
    network_names : list of str
    atoms_dirs : dict, optional
        ``{model: results/atoms/{model}}``; layers without an atoms file get empty atoms.
    grayordinate_tables : list of DataFrame or paths
        ``neurons/{model}/grayordinate_ans.tsv`` (optional).

    Returns
    -------
    DataFrame
        One row per AN: identifiers, ``best_network``, ``best_sign``, ``best_r``, ``best_q``,
        ``best_parcel``, ``n_networks``, ``networks`` (``+vision,-default``...),
        ``n_parcels_pos``, ``n_parcels_neg``, ``top_parcels``, ``n_atoms``, ``atoms``,
        ``code_signs`` and, with grayordinates, ``n_grayordinates_pos``,
        ``n_grayordinates_neg``, ``best_grayordinate_r`` and ``grayordinate_networks``
        (networks where the AN's significant grayordinates of a sign are enriched).
    """
    ans = pd.concat([_table(a) for a in ans_tables], ignore_index=True)
    t = np.column_stack([ans[f"max_t_{n}"].to_numpy(float) for n in network_names])
    reach = t != 0
    best = np.abs(t).argmax(1)
    has = reach.any(1)
    names = np.asarray(network_names, dtype=object)
    sign_char = np.where(t > 0, "+", "-")
    out = ans[KEYS].copy()
    out["best_network"] = np.where(has, names[best], "")
    out["best_sign"] = np.where(has, np.sign(t[np.arange(len(t)), best]), 0).astype(int)
    out["best_r"] = ans["best_parcel_r"].to_numpy(float)
    out["best_q"] = ans["best_parcel_q"].to_numpy(float)
    out["best_parcel"] = ans["best_parcel"]
    out["n_networks"] = reach.sum(1)
    out["networks"] = [
        ",".join(np.char.add(s[m], names[m].astype(str))) for s, m in zip(sign_char, reach)
    ]
    for col in ("n_parcels_pos", "n_parcels_neg", "top_parcels"):
        out[col] = ans[col]
    out = out.merge(
        _atoms(out, atoms_dirs or {}), on=["model", "stream", "layer", "column"], how="left"
    )
    out["n_atoms"] = out["n_atoms"].fillna(0).astype(int)
    for col in ("atoms", "code_signs"):
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    if grayordinate_tables:
        gray = pd.concat([_table(g) for g in grayordinate_tables], ignore_index=True)
        cols = ["n_grayordinates_pos", "n_grayordinates_neg", "best_grayordinate_r"]
        out = out.merge(gray[KEYS + cols], on=KEYS, how="left")
        enriched = [
            np.where(gray[f"enriched_{s}_{n}"].astype(bool), ("+" if s == "pos" else "-") + n, "")
            for n in network_names
            for s in ("pos", "neg")
            if f"enriched_{s}_{n}" in gray
        ]
        gray_networks = [",".join(x for x in row if x) for row in zip(*enriched)]
        out = out.merge(gray[KEYS].assign(grayordinate_networks=gray_networks), on=KEYS, how="left")
    return out.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _table(obj):
    return obj if isinstance(obj, pd.DataFrame) else read_tsv(obj)


def _atoms(catalogue, atoms_dirs):
    frames = []
    for (model, stream, layer), _ in catalogue.groupby(["model", "stream", "layer"]):
        if model not in atoms_dirs:
            continue
        path = Path(atoms_dirs[model]) / stream / f"{layer_name(layer)}.npz"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing atoms; rerun the atoms rule of {model}")
        frame = atom_memberships(path)
        frame.insert(0, "layer", int(layer))
        frame.insert(0, "stream", stream)
        frame.insert(0, "model", model)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(
            columns=["model", "stream", "layer", "column", "n_atoms", "atoms", "code_signs"]
        )
    return pd.concat(frames, ignore_index=True)


def network_summary(parcel_summaries, grayordinate_summaries=()):
    """Per model x stream x layer x network neuron-level columns (parcel and grayordinate)."""
    keys = ["model", "stream", "layer", "network"]
    out = pd.concat([_table(s) for s in parcel_summaries], ignore_index=True)
    if grayordinate_summaries:
        gray = pd.concat([_table(s) for s in grayordinate_summaries], ignore_index=True)
        out = out.merge(gray, on=keys, how="left")
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _ratio(a, b):
    """a / b; inf when only a is positive, NaN when neither is (no AN reached the network)."""
    if b > 0:
        return a / b
    return np.inf if a > 0 else np.nan


def planted_enrichment(ground_truth, ans_tables, grayordinate_tables=()):
    """How often the ANs of each planted mixture reach the planted network with its sign.

    For each coupling of the ground truth: the hit rate of its planted ANs (at least one
    significant parcel of the planted network with the planted sign; at grayordinate
    resolution: the AN's significant grayordinates of that sign are enriched in the
    network), of the layer's other
    ANs, their ratio (enrichment), and the hit rate of the ANs of the same model x stream's
    layers that have no plant at all; the same at grayordinate resolution when available.
    """
    gt = _table(ground_truth)
    ans = pd.concat([_table(a) for a in ans_tables], ignore_index=True)
    gray = (
        pd.concat([_table(g) for g in grayordinate_tables], ignore_index=True)
        if grayordinate_tables
        else None
    )
    planted_layers = set(zip(gt["model"], gt["stream"], gt["layer"].astype(int)))
    rows = []
    for c in gt.itertuples(index=False):
        sign = "pos" if int(c.sign) > 0 else "neg"
        row = {
            "model": c.model,
            "stream": c.stream,
            "layer": int(c.layer),
            "network": c.network,
            "sign": int(c.sign),
        }
        planted = {int(a) for a in str(c.ans).split(",") if a.strip() != ""}
        for prefix, table in (("parcels", ans), ("enriched", gray)):
            col = f"{prefix}_{sign}_{c.network}"
            if table is None or col not in table:
                continue
            same = (table["model"] == c.model) & (table["stream"] == c.stream)
            layer = same & (table["layer"] == int(c.layer))
            hit = table[col].to_numpy().astype(float) > 0
            is_planted = layer & table["column"].isin(planted)
            unplanted = same & ~table["layer"].map(
                lambda la, m=c.model, s=c.stream: (m, s, int(la)) in planted_layers
            )
            tag = "" if prefix == "parcels" else "_grayordinate"
            rate_p = hit[is_planted].mean() if is_planted.any() else np.nan
            rate_o = hit[layer & ~is_planted].mean() if (layer & ~is_planted).any() else np.nan
            row[f"n_planted_ans{tag}"] = int(is_planted.sum())
            row[f"hit_planted{tag}"] = rate_p
            row[f"hit_other{tag}"] = rate_o
            row[f"enrichment{tag}"] = _ratio(rate_p, rate_o)
            row[f"hit_unplanted_layers{tag}"] = hit[unplanted].mean() if unplanted.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


HTML_COLUMNS = [
    "model",
    "stream",
    "layer",
    "head",
    "dim",
    "best_network",
    "best_sign",
    "best_r",
    "best_q",
    "n_networks",
    "networks",
    "n_parcels_pos",
    "n_parcels_neg",
    "n_grayordinates_pos",
    "n_grayordinates_neg",
    "grayordinate_networks",
    "n_atoms",
    "atoms",
    "code_signs",
    "top_parcels",
]


def catalogue_html(catalogue, title="Neuron catalogue", max_rows=500):
    """A self-contained searchable, sortable HTML table of the catalogue (no server).

    The columns are embedded as gzip-compressed JSON (``{column: [values]}``, base64),
    which the page inflates with the browser's ``DecompressionStream`` (about 8 times
    smaller than the JSON: the page is embedded in the self-contained report); the
    search box filters on every column
    (all words must match), a click on a header sorts, and at most ``max_rows`` matches
    are shown.
    """
    cols = [c for c in HTML_COLUMNS if c in catalogue.columns]
    frame = catalogue[cols].copy()
    if "top_parcels" in frame:  # keep the page light: the TSV has up to 20
        frame["top_parcels"] = (
            frame["top_parcels"].fillna("").astype(str).map(lambda v: ",".join(v.split(",")[:5]))
        )
    for c in ("best_r", "best_q"):
        if c in frame:
            frame[c] = frame[c].map(lambda v: float(f"{v:.3g}") if pd.notna(v) else None)
    values = frame.astype(object).where(frame.notna(), None)
    data = json.dumps(  # by column: like values side by side compress a third better
        {c: values[c].tolist() for c in cols}, separators=(",", ":"), default=_json_scalar
    )
    data = base64.b64encode(gzip.compress(data.encode(), mtime=0)).decode("ascii")
    return (
        _HTML.replace("__TITLE__", html.escape(title))
        .replace("__DATA__", data)
        .replace("__MAX__", str(int(max_rows)))
    )


def _json_scalar(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(type(v).__name__)


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:left}th{cursor:pointer;background:#eee}
input{width:40em;padding:4px;margin:0.5em 0}
</style></head><body>
<h2>__TITLE__</h2>
<p>One row per artificial neuron (AN). Type words to filter (all must match, e.g.
<code>clip image vision +</code>); click a header to sort. Showing at most __MAX__ rows.</p>
<input id="q" placeholder="search..." autofocus><span id="n"></span>
<table><thead><tr id="h"></tr></thead><tbody id="b"></tbody></table>
<script id="data" type="application/octet-stream">__DATA__</script>
<script>
async function columnsOf(id){const bin=atob(document.getElementById(id).textContent.trim());
 const bytes=Uint8Array.from(bin,c=>c.charCodeAt(0));
 const json=new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
 return JSON.parse(await new Response(json).text())}
columnsOf('data').then(data=>{
const cols=Object.keys(data), MAX=__MAX__;
const rows=data[cols[0]].map((_,i)=>cols.map(c=>data[c][i]));
const text=rows.map(r=>r.join(' ').toLowerCase());
let order=rows.map((_,i)=>i), sortCol=-1, asc=true;
const h=document.getElementById('h');
cols.forEach((c,j)=>{const th=document.createElement('th');th.textContent=c;
 th.onclick=()=>{asc=(sortCol===j)?!asc:true;sortCol=j;
  order.sort((a,b)=>{const x=rows[a][j],y=rows[b][j];
   const v=(x===y)?0:(x===null)?1:(y===null)?-1:(x<y?-1:1);return asc?v:-v});draw()};
 h.appendChild(th)});
function draw(){const words=document.getElementById('q').value.toLowerCase().split(/\\s+/)
 .filter(w=>w);const hits=order.filter(i=>words.every(w=>text[i].includes(w)));
 document.getElementById('n').textContent=' '+hits.length+' matching ANs';
 const b=document.getElementById('b');b.innerHTML='';
 hits.slice(0,MAX).forEach(i=>{const tr=document.createElement('tr');
  rows[i].forEach(v=>{const td=document.createElement('td');td.textContent=v===null?'':v;
   tr.appendChild(td)});b.appendChild(tr)})}
document.getElementById('q').oninput=draw;draw();
}).catch(e=>{document.getElementById('n').textContent=' cannot read the rows: '+e});
</script></body></html>
"""
