"""Coupling-layout study: which planted layouts can the default simulation separate?

Plants a layout into the existing default-run activations (results/activations), learns
K atoms for the planted layers only, simulates 6 subjects at 1/step of the grayordinates
and runs the same AR(1) GLM, group t + BH-FDR and enrichment code as the workflow.
Prints missed couplings, false (layer, network, sign) cells at planted layers (networks
with no plant at that layer) and cross-modal atoms per layer.

Layouts: "orig": 1 uses config/config.yaml's couplings; otherwise a modality-consistent
layout (image layers -> vision+ and attention+, text layers -> language+ and default-,
METER fusion_image layer `fl` -> all four, its vision/attention ANs drawn among the most
image-like ANs and its language/default ANs among the most text-like, unless "nolike": 1).

Usage: .venv/bin/python bench/encoding/coupling_layout_study.py '{"K": 8, "strength": 0.3}'
Measured on 2026-11-24 (405 TRs): see bench/README.md.
"""
import sys, json, time
import numpy as np, pandas as pd, yaml
from vlmbrain.encoding.atoms import read_timing
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.encoding.temporal import regressor_pipeline, run_slices, kept_rows
from vlmbrain.encoding.sdl import learn_atoms
from vlmbrain.encoding.glm import ar1_glm, add_intercept
from vlmbrain.encoding.group import group_maps
from vlmbrain.fmri.bold import zscore
from vlmbrain.findings.recovery import recovery_summary, recovery_table
from vlmbrain.networks.overlap import layer_overlap_table
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.truth import plant
from vlmbrain.simulation.bold import simulate_bold
args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
cfg = yaml.safe_load(open("config/config.yaml")); sim = cfg["simulation"]
K = args.get("K", cfg["sdl"]["n_atoms"]); strength = args.get("strength", 1.0); step = args.get("step", 5)
FL = args.get("fl", 2)
C = lambda m, s, l, n, g, like=None: dict(model=m, stream=s, layer=l, network=n, sign=g, strength=strength, **({"like": like} if like else {}))
couplings = [C("clip","image",8,"vision",1), C("clip","image",8,"attention",1),
  C("clip","text",8,"language",1), C("clip","text",8,"default",-1),
  C("meter","fusion_image",FL,"vision",1,"image"), C("meter","fusion_image",FL,"attention",1,"image"),
  C("meter","fusion_image",FL,"language",1,"text"), C("meter","fusion_image",FL,"default",-1,"text"),
  C("vit","image",6,"vision",1), C("vit","image",6,"attention",1),
  C("roberta","text",6,"language",1), C("roberta","text",6,"default",-1)]
A = "results/activations"
if args.get("orig"):
    couplings = [dict(c, strength=strength) for c in sim["couplings"]]
names, masks = load_networks("results/networks/networks.npz"); masks = masks[:, ::step]
rows = read_timing([f"results/stimuli/run{i}.tsv" for i in (1, 2, 3)]); keep = kept_rows(rows)
pipe = regressor_pipeline(rows)
models = sorted({c["model"] for c in couplings})
man = {m: load_activations(f"{A}/{m}") for m in models}
Rg = lambda m, s, l: pipe.transform(np.asarray(load_layer(f"{A}/{m}", s, l), np.float64))
def U(X, k=8): return np.linalg.svd(X, full_matrices=False)[0][:, :k]
Xf = Rg("meter", "fusion_image", FL); Xf /= np.linalg.norm(Xf, axis=0)
Ui, Ut = U(Rg("meter", "image", 10)), U(Rg("meter", "text", 11))
ri, rt = np.sum((Ui.T @ Xf)**2, 0), np.sum((Ut.T @ Xf)**2, 0)
pool = {"image": np.argsort(rt - ri)[:192], "text": np.argsort(ri - rt)[:192]}
# per coupling truth, sharing ANs for same layer+like
truth, arr = plant(couplings, man, names, masks, fraction=sim["fraction"], n_ans=32, seed=0)
rng = np.random.default_rng(1)
groups = {}
for i, c in enumerate(couplings):
    key = (c["model"], c["stream"], c["layer"], c.get("like"))
    if key not in groups:
        info = man[c["model"]]["streams"][c["stream"]]; p = pool[c["like"]] if c.get("like") and not args.get("nolike") else np.arange(int(info["n_heads"]) * int(info["head_dim"]))
        groups[key] = (np.sort(rng.choice(p, 32, replace=False)), rng.uniform(.5, 1.5, 32).astype(np.float32))
    arr["ans"][i], arr["weights"][i] = groups[key]
layers = sorted({(c["model"], c["stream"], c["layer"]) for c in couplings})
if args.get("extra"):  # unplanted layers too
    layers += [tuple(x) for x in args["extra"]]
atoms = {l: learn_atoms(Rg(*l).astype(np.float32), n_atoms=K, alpha=args.get("alpha", 1.0), max_iter=10)["atoms"] for l in layers}
get = lambda m, st, L: load_layer(f"{A}/{m}", st, L)
sim["noise"].update(args.get("noise", {}))
betas = {k: [] for k in atoms}
for s in range(6):
    Y = simulate_bold(s, rows, truth, arr, get, sim, masks.shape[1])[keep]
    for sl in run_slices(rows["run"].to_numpy()[keep]):
        Y[sl] = zscore(Y[sl])
    for k, D in atoms.items():
        betas[k].append(ar1_glm(Y, add_intercept(D))["beta"][:-1])
overlap = pd.concat([
    layer_overlap_table(g["activated"], g["deactivated"], names, masks).assign(model=k[0], stream=k[1], layer=k[2])
    for k, g in ((k, group_maps(b, q=0.05)) for k, b in betas.items())
])
index = pd.DataFrame(list(atoms), columns=["model", "stream", "layer"])
rec = recovery_table(overlap, truth, index, names)
summ = recovery_summary(rec)
d = overlap[overlap.drives & overlap.network.isin(["vision", "language"]) & (overlap.sign == 1)]
xm = d.groupby(["model", "stream", "layer", "atom"]).network.nunique()
print(json.dumps(args), "missed", rec.loc[rec.outcome == "miss", ["model", "stream", "layer", "network"]].values.tolist(),
      summ)
print("cross-modal atoms per layer:", (xm == 2).groupby(level=[0, 1, 2]).sum().to_dict())
print(rec[rec.detected | rec.planted].to_string())
