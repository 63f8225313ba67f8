"""Coupling-layout study: which planted layouts can the default simulation separate?

Plants a layout into the existing default-run activations (results/activations), learns
K atoms for the planted layers only, simulates 6 subjects at 1/step of the grayordinates
and runs the same ground-truth draw (``like`` included), AR(1) GLM, group t + BH-FDR and
enrichment code as the workflow. Prints missed couplings, the share of false (layer,
network, sign) cells at planted layers (networks with no plant at that layer) and
cross-modal atoms per layer.

Layouts: config/config.yaml's couplings (modality-consistent: image layers -> vision+ and
attention+, text layers -> language+ and default-, METER fusion_image 2 -> all four from
its image-like and text-like ANs), optionally at another "strength"; "legacy": 1 gives the
earlier default layout (image-driven METER signals planted into language and attention).

Usage: .venv/bin/python bench/encoding/coupling_layout_study.py '{"K": 8, "strength": 0.3}'
Measured on 2026-11-24 (405 TRs): see bench/README.md.
"""
import sys, json
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
from vlmbrain.simulation.truth import coupling_likeness, plant
from vlmbrain.simulation.bold import simulate_bold
args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
cfg = yaml.safe_load(open("config/config.yaml")); sim = cfg["simulation"]
K = args.get("K", cfg["sdl"]["n_atoms"]); step = args.get("step", 5)
LEGACY = [("clip", "image", 8, "vision", 1), ("clip", "text", 8, "language", 1), ("clip", "text", 3, "default", -1),
          ("meter", "fusion_image", 4, "vision", 1), ("meter", "fusion_image", 4, "language", 1),
          ("meter", "fusion_text", 2, "attention", 1), ("vit", "image", 6, "vision", 1), ("roberta", "text", 6, "language", 1)]
if args.get("legacy"):
    couplings = [dict(zip(["model", "stream", "layer", "network", "sign"], c)) for c in LEGACY]
else:
    couplings = [dict(c) for c in sim["couplings"]]
for c in couplings:
    c["strength"] = args.get("strength", c.get("strength", 1.0))
A = "results/activations"
names, masks = load_networks("results/networks/networks.npz"); masks = masks[:, ::step]
rows = read_timing([f"results/stimuli/run{i}.tsv" for i in (1, 2, 3)]); keep = kept_rows(rows)
pipe = regressor_pipeline(rows)
models = sorted({c["model"] for c in couplings})
man = {m: load_activations(f"{A}/{m}") for m in models}
Rg = lambda m, s, l: pipe.transform(np.asarray(load_layer(f"{A}/{m}", s, l), np.float64))
get = lambda m, st, L: load_layer(f"{A}/{m}", st, L)
likeness = coupling_likeness(couplings, man, get, rows["movie"].to_numpy())
truth, arr = plant(couplings, man, names, masks, fraction=sim["fraction"], n_ans=sim["ans_per_coupling"], seed=sim["seed"],
                   likeness=likeness)
layers = sorted({(c["model"], c["stream"], c["layer"]) for c in couplings})
if args.get("extra"):  # unplanted layers too
    layers += [tuple(x) for x in args["extra"]]
atoms = {l: learn_atoms(Rg(*l).astype(np.float32), n_atoms=K, alpha=args.get("alpha", 1.0), max_iter=10)["atoms"] for l in layers}
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
