"""Noiseless study of the attribution's feature spaces on a finished simulation run.

For every planted coupling, the planted BOLD time course (noiseless, kept TRs, z-scored per
run as the BOLD is) is predicted leave-one-run-out by the workflow's banded ridge from:
- the planted layer's own feature space;
- the references the planted stream competes with (``attribution.against``);
- both: the planted stream's unique share = R2(both) - R2(references);
- and, for every planted layer of the *other* modality, that layer with its own references:
  the unique share a wrong layer would get (what produces false cells).
Run from the repository root after ``make run`` (or with an overlay naming another results
folder), for several feature sizes:

    .venv/bin/python bench/attribution/feature_study.py [overlay.yaml] \
        --sizes 8/8/16 16/8/16 16/8/32 32/8/32

where ``a/b/c`` is ``n_components/reference_per_layer/reference_components``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from vlmbrain.attribution.banded import banded_ridge_loro, default_deltas  # noqa: E402
from vlmbrain.attribution.features import layer_components, reference_components  # noqa: E402
from vlmbrain.config import runs as config_runs  # noqa: E402
from vlmbrain.stimuli.table import kept_rows, read_timing, run_slices  # noqa: E402
from vlmbrain.io import read_tsv  # noqa: E402
from vlmbrain.models.files import load_layer  # noqa: E402
from vlmbrain.simulation.bold import coupling_signal  # noqa: E402

MODALITY = {"image": "image", "text": "text"}


ALPHAS = [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]


def loro_r2(spaces, y, runs):
    """Held-out R^2 of the workflow's banded ridge (leave one run out, inner CV)."""
    spaces = spaces if isinstance(spaces, list) else [spaces]
    res = banded_ridge_loro(spaces, y[:, None], runs, default_deltas(len(spaces)), ALPHAS)
    return float(res["r2"][0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("overlay", nargs="?", help="config overlay merged over config/config.yaml")
    ap.add_argument("--sizes", nargs="+", default=["8/8/16", "16/8/16", "16/8/32", "32/8/32"])
    args = ap.parse_args()
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    if args.overlay:
        cfg.update(yaml.safe_load(Path(args.overlay).read_text()))
    res = Path(cfg["results"])
    rows = read_timing([res / f"stimuli/{r}.tsv" for r in config_runs(cfg)])
    keep = kept_rows(rows)
    runs = rows["run"].to_numpy()[keep]
    truth = read_tsv(res / "simulation/ground_truth.tsv", dtype={"ans": str})
    npz = np.load(res / "simulation/ground_truth.npz")
    against = cfg.get("attribution", {}).get("against", {"image": ["text"], "text": ["image"],
                                                          "fusion_image": ["image", "text"],
                                                          "fusion_text": ["image", "text"]})
    refs_streams = cfg.get("attribution", {}).get("references", {"image": ["image"], "text": ["text"]})
    models = list(cfg["models"])
    regs = {}
    for m in models:
        for p in sorted((res / "regressors" / m).glob("*/layer-*.npy")):
            regs[(m, p.parent.name, int(p.stem[6:]))] = np.load(p)
    signals = []
    for i, c in truth.iterrows():
        keep_ans = npz["ans"][i] >= 0
        X = load_layer(res / "activations" / c["model"], c["stream"], int(c["layer"]))
        s = coupling_signal(X, rows, npz["ans"][i][keep_ans], npz["weights"][i][keep_ans])[keep]
        for sl in run_slices(runs):
            s[sl] = (s[sl] - s[sl].mean()) / s[sl].std()
        signals.append((c, s))
    planted_layers = {(c["model"], c["stream"], int(c["layer"])) for c, _ in signals}
    cache = {}
    for size in args.sizes:
        k, per, kr = map(int, size.split("/"))
        kmax = max(k, per)
        if kmax not in cache:
            cache[kmax] = {key: layer_components(X, kmax)[0] for key, X in regs.items()}
        feats = {key: f[:, :k] for key, f in cache[kmax].items()}
        refs = {}
        for name, streams in refs_streams.items():
            blocks = [f[:, :per] for (m, s, _), f in cache[kmax].items() if s in streams]
            refs[name] = reference_components(blocks, kr)[0]
        print(f"\n== n_components {k}, reference_per_layer {per}, reference_components {kr}")
        print(f"{'coupling':42s} own  ref  unique | wrong-modality layers' unique")
        for c, s in signals:
            key = (c["model"], c["stream"], int(c["layer"]))
            R = [refs[n] for n in against[c["stream"]]]
            own = loro_r2(feats[key], s, runs)
            ref = loro_r2(R, s, runs)
            both = loro_r2([feats[key], *R], s, runs)
            wrong = []
            modality = c["like"] if isinstance(c.get("like"), str) and c["like"] else c["stream"]
            for other in sorted(planted_layers):
                if other[1] not in MODALITY or MODALITY[other[1]] == MODALITY.get(modality):
                    continue
                Ro = [refs[n] for n in against[other[1]]]
                u = loro_r2([feats[other], *Ro], s, runs) - loro_r2(Ro, s, runs)
                wrong.append(f"{other[0]} {other[1]} {other[2]}: {u:+.3f}")
            name = f"{key[0]} {key[1]} {key[2]} -> {c['network']} ({modality})"
            print(f"{name:42s} {own:.2f} {ref:.2f} {both - ref:+.3f} | " + ", ".join(wrong), flush=True)


if __name__ == "__main__":
    main()
