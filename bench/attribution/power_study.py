"""Sensitivity and specificity of the unique maps on a finished simulation run.

For every planted image or text layer, each subject's unique R^2 is computed by the
workflow's variance partitioning (:func:`vlmbrain.attribution.banded.variance_partition`,
the stream against its references from ``attribution/features.npz``) at several feature
sizes, on a seeded subset of grayordinates (the whole brain takes minutes per fit on a busy
laptop). The group test then runs on the signed square root with the ordinary and the
moderated t (:func:`vlmbrain.stats.sign_flip_test`), BH-FDR over the subset, and prints for
each network the share of its grayordinates with significant unique R^2 and the enrichment
p-value. Run from the repository root after ``make run`` (or with an overlay naming another
results folder):

    .venv/bin/python bench/attribution/power_study.py [overlay.yaml] --sizes 8 16 32 \
        --subset 15000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from vlmbrain.attribution.banded import default_deltas, reference_r2, variance_partition  # noqa: E402
from vlmbrain.attribution.features import layer_components, reference_key  # noqa: E402
from vlmbrain.config import runs as config_runs  # noqa: E402
from vlmbrain.fmri.bold import load_subject_bold  # noqa: E402
from vlmbrain.io import read_tsv  # noqa: E402
from vlmbrain.networks.templates import load_networks  # noqa: E402
from vlmbrain.stats import enrichment_p, fdr_mask, sign_flip_test  # noqa: E402
from vlmbrain.stimuli.table import kept_rows, read_timing  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overlay", nargs="?", help="config overlay merged over config/config.yaml")
    ap.add_argument("--sizes", nargs="+", type=int, default=[8, 16, 32])
    ap.add_argument("--subset", type=int, default=15000, help="grayordinates (0: all)")
    args = ap.parse_args()
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    if args.overlay:
        for key, value in yaml.safe_load(Path(args.overlay).read_text()).items():
            cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and key in cfg else value
    A, res = cfg["attribution"], Path(cfg["results"])
    tables = [res / f"stimuli/{r}.tsv" for r in config_runs(cfg)]
    rows = read_timing(tables)
    runs = rows["run"].to_numpy()[kept_rows(rows)]
    truth = read_tsv(res / "simulation/ground_truth.tsv", dtype={"ans": str})
    planted_masks = np.load(res / "simulation/ground_truth.npz")["masks"]
    names, masks = load_networks(res / "networks/networks.npz")
    V = masks.shape[1]
    keep = np.arange(V) if not args.subset else np.sort(
        np.random.default_rng(0).choice(V, args.subset, replace=False))
    masks, planted_masks = masks[:, keep], planted_masks[:, keep]
    layers = sorted({(c["model"], c["stream"], int(c["layer"])) for _, c in truth.iterrows()
                     if c["stream"] in ("image", "text")})
    with np.load(res / "attribution/features.npz") as f:
        refs = {s: np.hstack([f[reference_key(n)] for n in A["against"][s]]) for s in ("image", "text")}
    spaces = {(*key, k): layer_components(np.load(res / f"regressors/{key[0]}/{key[1]}/layer-{key[2]:02d}.npy"), k)[0]
              for key in layers for k in args.sizes}
    subjects = sorted(p.name for p in (res / "simulation/bold").glob("sub-*"))
    unique = {key: [] for key in spaces}
    for sub in subjects:
        bold = sorted((res / "simulation/bold" / sub).glob("run*.dtseries.nii"))
        Y = load_subject_bold([str(b) for b in bold], tables, cfg["data"]["tr"])[:, keep]
        r2_ref = {s: reference_r2([R], Y, runs, A["alphas"])["r2"] for s, R in refs.items()}
        for key, F in spaces.items():
            out = variance_partition(F, [refs[key[1]]], Y, runs, A["alphas"],
                                     deltas=default_deltas(2, A["n_ratios"], A["log10_span"]),
                                     r2_reference=r2_ref[key[1]])
            unique[key].append(out["unique"])
        print(f"{sub} done", file=sys.stderr, flush=True)
    print(f"{len(subjects)} subjects, {keep.size} grayordinates; per network: share significant "
          "(enrichment p); planted = share of the layer's planted grayordinates")
    for key in sorted(spaces):
        U = np.stack(unique[key])
        planted = np.zeros(keep.size, bool)
        for i, c in truth.iterrows():
            if (c["model"], c["stream"], int(c["layer"])) == key[:3]:
                planted |= planted_masks[i]
        for moderated in (False, True):
            _, p = sign_flip_test(np.sign(U) * np.sqrt(np.abs(U)), n_flips=A["n_flips"],
                                  seed=A["seed"], moderated=moderated)
            _, sig = fdr_mask(p, A["fdr_q"], axis=None)
            ep = enrichment_p((masks & sig).sum(1), sig.size, masks.sum(1), int(sig.sum()))
            cells = " ".join(f"{n}={sig[m].mean():.3f} ({e:.0e})" for n, m, e in zip(names, masks, ep))
            print(f"{key[0]} {key[1]} {key[2]} k={key[3]:<3d} {'moderated' if moderated else 'ordinary ':9s} "
                  f"planted {sig[planted].mean():.3f} | {cells}", flush=True)


if __name__ == "__main__":
    main()
