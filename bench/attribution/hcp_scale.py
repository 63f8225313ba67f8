"""Attribution of one layer against its reference at HCP scale, beside himalaya.

Synthetic data of the HCP 7T shape (4 runs of 900 TRs, 91,282 grayordinates), a layer's
feature space and a reference of the configured sizes. Measures, in one process:
- the workflow's solver (:func:`vlmbrain.attribution.banded.variance_partition`, the
  reference fitted once per subject as the workflow does) on all grayordinates: time per
  layer, time per subject (x the number of stream-layers), peak memory;
- himalaya's ``BandedRidgeCV`` with its documented defaults (random search, 100 Dirichlet
  candidates, ``alphas=1``) and with the workflow's candidates and alphas, leave-one-run-out,
  on a slice of grayordinates (``--himalaya-targets``), extrapolated linearly to all.

    .venv/bin/python bench/attribution/hcp_scale.py [--targets 91282] [--himalaya-targets 2000]

``python -m bench`` runs :func:`rows` as part of the whole table.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from vlmbrain.attribution.banded import (  # noqa: E402
    default_deltas,
    reference_r2,
    variance_partition,
)

import yaml  # noqa: E402

GRID = yaml.safe_load((ROOT / "config/config.yaml").read_text())["attribution"]
ALPHAS = [float(a) for a in GRID["alphas"]]
DELTAS = default_deltas(2, GRID["n_ratios"], GRID["log10_span"])


def data(n_runs, run_trs, n_targets, k_stream, k_ref, seed=0):
    rng = np.random.default_rng(seed)
    T = n_runs * run_trs
    runs = np.repeat(np.arange(n_runs), run_trs)
    ref = rng.standard_normal((T, k_ref)).astype(np.float32)
    stream = (0.6 * ref[:, :k_stream] + 0.8 * rng.standard_normal((T, k_stream))).astype(np.float32)
    Y = rng.standard_normal((T, n_targets), dtype=np.float32)
    Y[:, : n_targets // 4] += 0.3 * (stream @ rng.standard_normal((k_stream, n_targets // 4))).astype(np.float32)
    Y -= Y.mean(0)
    Y /= Y.std(0)
    return runs, stream, ref, Y


def himalaya_loro(stream, ref, Y, runs, solver_params):
    from himalaya.ridge import BandedRidgeCV
    from himalaya.scoring import r2_score

    scores = []
    for held in np.unique(runs):
        train, test = runs != held, runs == held
        inner_runs = runs[train]
        cv = [(np.flatnonzero(inner_runs != r), np.flatnonzero(inner_runs == r))
              for r in np.unique(inner_runs)]
        X = np.hstack([stream, ref])
        groups = np.r_[np.zeros(stream.shape[1]), np.ones(ref.shape[1])].astype(int)
        model = BandedRidgeCV(groups=groups, cv=cv, solver_params=dict(progress_bar=False, **solver_params))
        model.fit(X[train], Y[train])
        scores.append(r2_score(Y[test], model.predict(X[test])))
    return np.mean(scores, 0)


def measure(runs=4, run_trs=900, targets=91282, himalaya_targets=2000, n_components=None,
            reference_components=None, layers=83, same_grid=True):
    """Time the workflow's solver on all targets and himalaya's on a slice, extrapolated.

    Returns
    -------
    dict
        ``ours_reference_s``, ``ours_layer_s``, ``ours_subject_s``, peak RSS (MB),
        ``himalaya_defaults_layer_s`` and, with ``same_grid``, ``himalaya_same_grid_layer_s``
        and ``max_abs_r2_difference_same_grid``.
    """
    k_stream = n_components or GRID["n_components"]
    k_ref = reference_components or GRID["reference_components"]
    run_labels, stream, ref, Y = data(runs, run_trs, targets, k_stream, k_ref)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    r2_ref = reference_r2([ref], Y, run_labels, ALPHAS, blas_threads=1)["r2"]
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = variance_partition(stream, [ref], Y, run_labels, ALPHAS, deltas=DELTAS, r2_reference=r2_ref,
                              blas_threads=1)
    t_layer = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = min(himalaya_targets, targets)
    scale = targets / n
    out = {
        "shape": {"T": int(Y.shape[0]), "V": targets, "stream": k_stream, "reference": k_ref},
        "ours_reference_s": t_ref, "ours_layer_s": t_layer, "ours_subject_s": t_ref * 3 + t_layer * layers,
        "grid": {"alphas": ALPHAS, "n_ratios": GRID["n_ratios"], "log10_span": GRID["log10_span"]},
        "ours_peak_rss_mb": rss, "data_rss_mb": rss0, "himalaya_targets": n,
    }
    if same_grid:
        t0 = time.perf_counter()
        grid = himalaya_loro(stream, ref, Y[:, :n], run_labels,
                             dict(n_iter=np.exp(DELTAS), alphas=np.asarray(ALPHAS)))
        out["himalaya_same_grid_layer_s"] = (time.perf_counter() - t0) * scale
        out["max_abs_r2_difference_same_grid"] = float(np.abs(grid - ours["r2_joint"][:n]).max())
    t0 = time.perf_counter()
    himalaya_loro(stream, ref, Y[:, :n], run_labels, {})
    out["himalaya_defaults_layer_s"] = (time.perf_counter() - t0) * scale
    return out


def rows(fast):
    """The table's attribution line: one layer against himalaya's documented defaults."""
    from bench.table import Row

    size = dict(runs=3, run_trs=100, targets=1000, himalaya_targets=100) if fast else {}
    m = measure(**size, same_grid=False)
    sh = m["shape"]
    return [Row(
        "attribution_vs_himalaya", "banded ridge of a layer (variance_partition)", m["ours_layer_s"],
        "himalaya BandedRidgeCV, documented defaults", m["himalaya_defaults_layer_s"], "ratio <= 1",
        m["ours_layer_s"] <= m["himalaya_defaults_layer_s"],
        f"{sh['V']:,} grayordinates x {sh['T']:,} TRs, bands {sh['stream']} + {sh['reference']}",
        f"himalaya on {m['himalaya_targets']:,} grayordinates, extrapolated; peak RSS {m['ours_peak_rss_mb']:.0f} MB",
        m,
    )]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--run-trs", type=int, default=900)
    ap.add_argument("--targets", type=int, default=91282)
    ap.add_argument("--himalaya-targets", type=int, default=2000)
    ap.add_argument("--n-components", type=int, default=GRID["n_components"])
    ap.add_argument("--reference-components", type=int, default=GRID["reference_components"])
    ap.add_argument("--layers", type=int, default=83, help="stream-layers per subject (default run: 83)")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    out = measure(args.runs, args.run_trs, args.targets, args.himalaya_targets, args.n_components,
                  args.reference_components, args.layers)
    t_layer, n = out["ours_layer_s"], out["himalaya_targets"]
    t_grid, t_default = out["himalaya_same_grid_layer_s"], out["himalaya_defaults_layer_s"]
    print(f"T={out['shape']['T']} V={args.targets} bands {args.n_components}+{args.reference_components}")
    print(f"ours: reference {out['ours_reference_s']:.1f} s, one layer {t_layer:.1f} s, a subject of "
          f"{args.layers} layers {out['ours_subject_s'] / 60:.1f} min; peak RSS {out['ours_peak_rss_mb']:.0f} MB "
          f"(data alone {out['data_rss_mb']:.0f} MB)")
    print(f"himalaya BandedRidgeCV, same candidates and alphas: {t_grid:.0f} s per layer "
          f"(extrapolated from {n} targets; ratio {t_grid / t_layer:.1f}x); max |R2 diff| "
          f"{out['max_abs_r2_difference_same_grid']:.1e}")
    print(f"himalaya BandedRidgeCV, documented defaults (100 random candidates): {t_default:.0f} s "
          f"per layer (ratio {t_default / t_layer:.1f}x)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
