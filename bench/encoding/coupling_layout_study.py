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

"config": a config overlay merged over config/config.yaml as --configfile does, whose
results folder and runs are read (e.g. bench/encoding/long_movie.yaml); "models": plant only the couplings of these models
(e.g. ["clip", "vit", "roberta"] when METER was not extracted there).

"shift_null": N also tests each cell against N circular shifts of the atoms (a prototype,
not the workflow's rule).

Usage: .venv/bin/python bench/encoding/coupling_layout_study.py '{"K": 8, "strength": 0.3}'
Measured on 2026-11-24 (405 TRs): see bench/README.md.
"""
import sys, json
import numpy as np, pandas as pd, yaml
from snakemake.utils import update_config
from vlmbrain.config import runs
from vlmbrain.stimuli.table import kept_rows, read_timing, run_slices
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.encoding.temporal import regressor_pipeline
from vlmbrain.encoding.sdl import learn_atoms
from vlmbrain.stats import add_intercept, ar1_glm
from vlmbrain.encoding.group import group_maps
from vlmbrain.fmri.bold import zscore
from vlmbrain.findings.recovery import recovery_summary, recovery_table
from vlmbrain.networks.enrichment import layer_overlap_table
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.truth import coupling_likeness, plant
from vlmbrain.simulation.bold import simulate_bold
args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
cfg = yaml.safe_load(open("config/config.yaml"))
if args.get("config"):
    update_config(cfg, yaml.safe_load(open(args["config"])))
sim = cfg["simulation"]
K = args.get("K", cfg["sdl"]["n_atoms"]); step = args.get("step", 5)
LEGACY = [("clip", "image", 8, "vision", 1), ("clip", "text", 8, "language", 1), ("clip", "text", 3, "default", -1),
          ("meter", "fusion_image", 4, "vision", 1), ("meter", "fusion_image", 4, "language", 1),
          ("meter", "fusion_text", 2, "attention", 1), ("vit", "image", 6, "vision", 1), ("roberta", "text", 6, "language", 1)]
if args.get("legacy"):
    couplings = [dict(zip(["model", "stream", "layer", "network", "sign"], c)) for c in LEGACY]
else:
    couplings = [dict(c) for c in sim["couplings"] if c["model"] in args.get("models", cfg["models"])]
for c in couplings:
    c["strength"] = args.get("strength", c.get("strength", 1.0))
RES = cfg["results"]; A = f"{RES}/activations"
names, masks = load_networks(f"{RES}/networks/networks.npz"); masks = masks[:, ::step]
rows = read_timing([f"{RES}/stimuli/{r}.tsv" for r in runs(cfg)]); keep = kept_rows(rows)
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
Ys = []
for s in range(6):
    Y = simulate_bold(s, rows, truth, arr, get, sim, masks.shape[1])[keep]
    for sl in run_slices(rows["run"].to_numpy()[keep]):
        Y[sl] = zscore(Y[sl])
    Ys.append(Y)


def overlap_of(atoms_of):
    """The workflow's AR(1) GLM, group maps and network overlap table for these atoms."""
    tables = []
    for k, D in atoms_of.items():
        g = group_maps([ar1_glm(Y, add_intercept(D))["beta"][:-1] for Y in Ys], q=0.05)
        tables.append(layer_overlap_table(g["activated"], g["deactivated"], names, masks)
                      .assign(model=k[0], stream=k[1], layer=k[2]))
    return pd.concat(tables)


overlap = overlap_of(atoms)
index = pd.DataFrame(list(atoms), columns=["model", "stream", "layer"])
rec = recovery_table(overlap, truth, index, names)
summ = recovery_summary(rec)
d = overlap[overlap.drives & overlap.network.isin(["vision", "language"]) & (overlap.sign == 1)]
xm = d.groupby(["model", "stream", "layer", "atom"]).network.nunique()
print(json.dumps(args), "missed", rec.loc[rec.outcome == "miss", ["model", "stream", "layer", "network"]].values.tolist(),
      summ)
print("cross-modal atoms per layer:", (xm == 2).groupby(level=[0, 1, 2]).sum().to_dict())
print(rec[rec.detected | rec.planted].to_string())

if args.get("shift_null"):
    # Prototype of a null that keeps the stimulus autocorrelation: each cell's statistic
    # (largest overlap rate of a driving atom, 0 when none drives) against the same with
    # every layer's atoms circularly shifted (one random shift per null draw).
    cell = ["model", "stream", "layer", "network", "sign"]
    stat = lambda ov: ov.assign(s=np.where(ov.drives, ov.overlap_rate, 0.0)).groupby(cell)["s"].max()
    real = stat(overlap)
    shifts = np.random.default_rng(7).integers(40, int(keep.sum()) - 40, size=int(args["shift_null"]))
    null = pd.concat([stat(overlap_of({k: np.roll(D, int(h), axis=0) for k, D in atoms.items()})) for h in shifts], axis=1)
    p = ((null.to_numpy() >= real.to_numpy()[:, None]).sum(1) + 1) / (len(shifts) + 1)
    rec2 = rec.set_index(cell).assign(detected=pd.Series((real.to_numpy() > 0) & (p <= 0.05), index=real.index))
    rec2["outcome"] = np.where(rec2.planted, np.where(rec2.detected, "hit", "miss"),
                               np.where(rec2.detected, "false positive", "quiet"))
    print("with the circular-shift null:", recovery_summary(rec2.reset_index()))
