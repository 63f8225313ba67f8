"""Planted couplings are recovered by the encoding core; pure noise stays quiet (reduced scale)."""

import numpy as np
import pandas as pd
import pytest

from vlmbrain.stats import OneSampleT, add_intercept, ar1_glm
from vlmbrain.encoding.group import group_maps
from vlmbrain.encoding.sdl import learn_atoms
from vlmbrain.encoding.temporal import regressor_pipeline
from vlmbrain.stimuli.table import run_slices
from vlmbrain.networks.enrichment import layer_overlap_table
from vlmbrain.simulation.bold import simulate_bold
from vlmbrain.simulation.truth import plant

NAMES = ["vision", "language", "attention", "default"]
N_VOX = 20000
N_LAYERS = 3


def _setup(seed=0, n_t=170, hold=2, n_latent=12, n_ans=64):
    rng = np.random.default_rng(seed)
    frames = []
    for r in range(3):
        movie = np.ones(n_t, bool)
        movie[:10] = movie[-10:] = False
        frames.append(pd.DataFrame({"run": f"run{r + 1}", "tr": np.arange(n_t), "movie": movie,
                                    "validation": False}))
    rows = pd.concat(frames, ignore_index=True)
    layers = {}
    for layer in range(N_LAYERS):  # AN series driven by latent scene factors held for a few TRs
        latent = np.repeat(rng.standard_normal((len(rows) // hold + 1, n_latent)), hold, axis=0)
        X = latent[: len(rows)] @ rng.standard_normal((n_latent, n_ans))
        X += 0.5 * rng.standard_normal((len(rows), n_ans))
        X[~rows["movie"].to_numpy()] = 0
        layers[("m", "image", layer)] = X.astype(np.float32)
    masks = np.zeros((4, N_VOX), bool)
    for i in range(4):
        masks[i, i * 2000 : i * 2000 + 1500] = True
    manifests = {"m": {"streams": {"image": {"n_layers": N_LAYERS, "n_heads": 4,
                                             "head_dim": n_ans // 4}}}}
    return rows, layers, masks, manifests


def _run(couplings, n_subjects=6, seed=0, n_atoms=16, alpha=1.0, variability=0.3, **kw):
    rows, layers, masks, manifests = _setup(seed, **kw)
    truth, arrays = plant(couplings, manifests, NAMES, masks, fraction=0.35, n_ans=16, seed=seed)
    sim = {"seed": seed, "noise": {"sigma": 1.0, "ar1": 0.4, "drift": 0.5, "subject_variability": variability}}
    keep = rows["movie"].to_numpy()
    pipe = regressor_pipeline(rows, "spm", 1.0, drop_rest=True)
    atoms = {key: learn_atoms(pipe.transform(X), n_atoms=n_atoms, alpha=alpha, max_iter=5)["atoms"]
             for key, X in layers.items()}
    betas = {key: [] for key in layers}
    for s in range(n_subjects):
        Y = simulate_bold(s, rows, truth, arrays, lambda m, st, la: layers[(m, st, la)], sim, N_VOX)
        Y = Y[keep]
        for sl in run_slices(rows["run"].to_numpy()[keep]):
            Y[sl] = (Y[sl] - Y[sl].mean(0)) / Y[sl].std(0)
        for key, D in atoms.items():
            betas[key].append(ar1_glm(Y, add_intercept(D), chunk_size=1000)["beta"][:-1])
    groups = {key: group_maps(b, q=0.05) for key, b in betas.items()}
    return truth, masks, groups, betas


COUPLINGS = [
    {"model": "m", "stream": "image", "layer": 1, "network": "vision", "sign": 1, "strength": 0.7},
    {"model": "m", "stream": "image", "layer": 1, "network": "default", "sign": -1, "strength": 0.7},
    {"model": "m", "stream": "image", "layer": 2, "network": "language", "sign": 1, "strength": 0.7},
]


@pytest.fixture(scope="module")
def recovered():
    truth, masks, groups, _ = _run(COUPLINGS, n_atoms=8, n_latent=12, hold=1)
    detected = set()
    for (_, _, layer), g in groups.items():
        table = layer_overlap_table(g["activated"], g["deactivated"], NAMES, masks, q=0.05)
        for _, row in table[table["drives"]].iterrows():
            detected.add((layer, row["network"], int(row["sign"])))
    return truth, detected


def test_planted_couplings_are_recovered_with_their_sign(recovered):
    truth, detected = recovered
    assert list(truth.columns) == ["model", "stream", "layer", "network", "sign", "strength",
                                   "like", "n_grayordinates", "ans"]
    for c in COUPLINGS:
        assert (c["layer"], c["network"], c["sign"]) in detected


def test_pure_noise_subjects_give_almost_no_significant_maps():
    _, _, groups, betas = _run([], n_subjects=5, seed=0)
    # the group test's p-values (the moderated t, the default) are calibrated on noise ...
    p = []
    for b in betas.values():
        acc = OneSampleT()
        for beta in b:
            acc.add(beta)
        p.append(acc.result(moderated=True)[2].ravel())
    p = np.concatenate(p)
    for level in (1e-3, 1e-2, 0.05):
        assert (p <= level).mean() <= 1.2 * level
    # ... so BH-FDR finds something in at most about q of the maps: with 48 maps, 8 or
    # more (0.15) happen with probability 0.002 when each map has 0.05
    any_sig = [
        (g["activated"][k] | g["deactivated"][k]).any()
        for g in groups.values()
        for k in range(g["activated"].shape[0])
    ]
    assert len(any_sig) == 48 and np.mean(any_sig) <= 0.15


def test_couplings_naming_unknown_parts_are_refused():
    rows, layers, masks, manifests = _setup()
    bad = [{"model": "m", "stream": "image", "layer": 9, "network": "vision", "sign": 1}]
    with pytest.raises(ValueError, match="layer must be in 0..2"):
        plant(bad, manifests, NAMES, masks)
    bad = [{"model": "m", "stream": "image", "layer": 0, "network": "motor", "sign": 1}]
    with pytest.raises(ValueError, match="motor"):
        plant(bad, manifests, NAMES, masks)


def test_plant_is_seeded():
    rows, layers, masks, manifests = _setup()
    c = [{"model": "m", "stream": "image", "layer": 0, "network": "vision", "sign": 1}]
    a = plant(c, manifests, NAMES, masks, seed=5)
    b = plant(c, manifests, NAMES, masks, seed=5)
    pd.testing.assert_frame_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1]["masks"], b[1]["masks"])
    assert a[1]["masks"][0].sum() == round(0.35 * 1500) and (a[1]["masks"][0] <= masks[0]).all()


def test_like_couplings_draw_image_or_text_like_ans():
    """A fusion layer mixing both modalities: ``like`` picks ANs that follow that stream."""
    from vlmbrain.simulation.truth import coupling_likeness

    rng = np.random.default_rng(3)
    n_t, n = 300, 64
    img, txt = rng.standard_normal((n_t, 3)), rng.standard_normal((n_t, 3))
    ref = {"image": img @ rng.standard_normal((3, 32)), "text": txt @ rng.standard_normal((3, 32))}
    # fusion ANs 0-31 follow the image latents, 32-63 the text latents
    fusion = np.concatenate([img @ rng.standard_normal((3, 32)), txt @ rng.standard_normal((3, 32))], 1)
    fusion += 0.3 * rng.standard_normal(fusion.shape)
    layers = {("f", "image", 1): ref["image"], ("f", "text", 1): ref["text"], ("f", "fusion_image", 0): fusion}
    info = {"n_layers": 2, "n_heads": 4, "head_dim": 8}
    manifests = {"f": {"streams": {"image": info, "text": info,
                                   "fusion_image": {"n_layers": 1, "n_heads": 8, "head_dim": 8}}}}
    masks = np.zeros((4, 400), bool)
    masks[:, :100] = True
    couplings = [
        {"model": "f", "stream": "fusion_image", "layer": 0, "network": "vision", "sign": 1, "like": "image"},
        {"model": "f", "stream": "fusion_image", "layer": 0, "network": "language", "sign": 1, "like": "text"},
    ]
    likeness = coupling_likeness(couplings, manifests, lambda m, s, la: layers[(m, s, la)], np.ones(n_t, bool))
    score = likeness[("f", "fusion_image", 0)]
    assert (score[:32] > 0).all() and (score[32:] < 0).all()
    table, arrays = plant(couplings, manifests, NAMES, masks, n_ans=8, likeness=likeness)
    assert (arrays["ans"][0] < 32).all() and (arrays["ans"][1] >= 32).all()
    assert table["like"].tolist() == ["image", "text"]
    with pytest.raises(ValueError, match="needs the likeness"):
        plant(couplings, manifests, NAMES, masks, n_ans=8)
    bad = [dict(couplings[0], model="m", stream="image")]
    with pytest.raises(ValueError, match="both image and text streams"):
        plant(bad, {"m": {"streams": {"image": info}}}, NAMES, masks)


def test_span_r2_equals_scikit_learn_pca_regression():
    """R^2 on the leading components equals scikit-learn's PCA + LinearRegression score."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression

    from vlmbrain.simulation.truth import span_r2

    rng = np.random.default_rng(3)
    Z = rng.standard_normal((120, 20)) @ rng.standard_normal((20, 30))
    X = Z[:, :4] @ rng.standard_normal((4, 5)) + rng.standard_normal((120, 5))
    pcs = PCA(n_components=6).fit_transform(Z)
    expected = [LinearRegression().fit(pcs, x).score(pcs, x) for x in X.T]
    np.testing.assert_allclose(span_r2(X, Z, n_components=6), expected, atol=1e-10)
