"""How much do image and text layers share by chance? Canonical correlations of K-atom spans.

For pairs of an image layer and a text layer of the default run (results/activations),
prints the leading canonical correlations between the K leading principal components of
their HRF-convolved regressors (the span that K atoms can reach), and the same after
circularly shifting the text regressors by 100 TRs (what chance alone gives over this
movie). A third part does the same for independent, HRF-smooth, scene-like random
series at the simulation's and at HCP's size (405 TRs with 8 atoms, 3,600 TRs with 64 and
with 8): the chance overlap falls with T/K. A last part gives the R^2 of a plant-like
signal (the mean of 32 random ANs of a layer) on the K leading components of the other
modality's layer and of its own. Any plant from one modality is partly explained by the
other modality's atoms in every subject alike, and the group test detects it.

Usage: .venv/bin/python bench/encoding/modality_crosstalk.py [K] [config overlay, e.g. bench/encoding/long_movie.yaml]
Measured on 2026-11-24: see bench/README.md.
"""
import sys

import numpy as np
import yaml
from snakemake.utils import update_config
from vlmbrain.config import runs
from vlmbrain.stimuli.table import read_timing
from vlmbrain.encoding.temporal import HRFConvolver, regressor_pipeline
from vlmbrain.models.files import load_layer
from vlmbrain.simulation.truth import span_r2

cfg = yaml.safe_load(open("config/config.yaml"))
K = int(sys.argv[1]) if len(sys.argv) > 1 else cfg["sdl"]["n_atoms"]
if len(sys.argv) > 2:  # an overlay, merged as --configfile does
    update_config(cfg, yaml.safe_load(open(sys.argv[2])))
res = cfg["results"]
rows = read_timing([f"{res}/stimuli/{r}.tsv" for r in runs(cfg)])
pipe = regressor_pipeline(rows, cfg["temporal"]["hrf"], cfg["data"]["tr"])


def regressors(model, stream, layer):
    return pipe.transform(np.asarray(load_layer(f"{res}/activations/{model}", stream, layer), np.float64))


def span(model, stream, layer):
    X = regressors(model, stream, layer)
    return np.linalg.svd(X - X.mean(0), full_matrices=False)[0][:, :K]


def canonical(U, V):
    return np.linalg.svd(U.T @ V, compute_uv=False)[:3]


print(f"K = {K}, {len(pipe.transform(np.zeros((len(rows), 1))))} modelled TRs")
for img, txt in [(("clip", "image", 8), ("clip", "text", 8)), (("vit", "image", 6), ("roberta", "text", 6)),
                 (("vit", "image", 6), ("clip", "text", 8))]:
    U, V = span(*img), span(*txt)
    print(f"{' '.join(map(str, img))} x {' '.join(map(str, txt))}: canonical r {np.round(canonical(U, V), 2)}, "
          f"text shifted by 100 TRs {np.round(canonical(U, np.roll(V, 100, axis=0)), 2)}")


def plant_r2(source, other, n_ans=32, repeats=20):
    """Mean R^2 of plant-like signals of ``source`` on the K-spans of ``other`` and of itself."""
    rng = np.random.default_rng(0)
    X = regressors(*source)
    M = np.stack(
        [X[:, rng.choice(X.shape[1], n_ans, replace=False)] @ rng.uniform(0.5, 1.5, n_ans) for _ in range(repeats)], 1
    )
    return span_r2(M, regressors(*other), K).mean(), span_r2(M, X, K).mean()


for source, other in [(("clip", "text", 8), ("clip", "image", 8)), (("roberta", "text", 6), ("vit", "image", 6)),
                      (("clip", "image", 8), ("clip", "text", 8)), (("vit", "image", 6), ("roberta", "text", 6))]:
    r2 = plant_r2(source, other)
    print(f"plant from {' '.join(map(str, source))}: R^2 {r2[0]:.2f} on {' '.join(map(str, other))}, {r2[1]:.2f} on its own")


def scene_series(rng, n_t, n_ans, scene_s=6.0, n_latent=20):
    """Independent movie-like AN series: latent features held per scene, mixed, HRF-convolved."""
    cuts = np.cumsum(rng.uniform(scene_s / 2, scene_s * 1.5, size=n_t))
    scene = np.searchsorted(cuts, np.arange(n_t))
    X = rng.standard_normal((scene.max() + 1, n_latent))[scene] @ rng.standard_normal((n_latent, n_ans))
    X += 0.3 * rng.standard_normal((n_t, n_ans))
    X = HRFConvolver(np.zeros(n_t, int), cfg["temporal"]["hrf"], cfg["data"]["tr"]).transform(X)
    return X - X.mean(0)


rng = np.random.default_rng(0)
for n_t, k in ((405, 8), (3600, 64), (3600, 8)):
    r = [
        canonical(*(np.linalg.svd(scene_series(rng, n_t, 200), full_matrices=False)[0][:, :k] for _ in range(2)))[0]
        for _ in range(5)
    ]
    print(f"independent series, {n_t} TRs, K = {k}: largest canonical r {np.mean(r):.2f} (mean of 5)")
