"""Recovery study: the default couplings planted into real activations, at 1/step of the
grayordinates, through the same SDL, AR(1) GLM, group and enrichment code.

Usage: .venv/bin/python bench/encoding/recovery_study.py '{"models": ["clip"], "strength": 0.5,
"activations": "results/activations", "step": 5}'  (all keys optional).
Prints missed couplings, false (layer, network, sign) cells at planted layers and the
fraction of (layer, atom) maps with any significant grayordinate.
"""
import sys, json, time, itertools
import numpy as np, pandas as pd, yaml
from vlmbrain.stimuli.table import kept_rows, read_timing, run_slices
from vlmbrain.fmri.bold import zscore
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.encoding.temporal import regressor_pipeline
from vlmbrain.encoding.sdl import learn_atoms
from vlmbrain.stats import add_intercept, ar1_glm
from vlmbrain.encoding.group import group_maps
from vlmbrain.networks.enrichment import layer_overlap_table
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.truth import plant
from vlmbrain.simulation.bold import simulate_bold

args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
cfg = yaml.safe_load(open("config/config.yaml"))
sim = cfg["simulation"]; sim["noise"].update(args.get("noise", {}))
models = args.get("models", ["clip"])
couplings = [c for c in sim["couplings"] if c["model"] in models]
for c in couplings: c["strength"] = args.get("strength", c.get("strength", 1.0))
step = args.get("step", 5)
ACT = args.get("activations", "results/activations")
names, masks = load_networks("results/networks/networks.npz")
masks = masks[:, ::step]
rows = read_timing([f"results/stimuli/run{i}.tsv" for i in (1, 2, 3)])
keep = kept_rows(rows)
man = {m: load_activations(f"{ACT}/{m}") for m in models}
truth, arr = plant(couplings, man, names, masks, fraction=args.get("fraction", sim["fraction"]), n_ans=args.get("n_ans", 32), seed=0)
pipe = regressor_pipeline(rows)
t0 = time.time()
import os, pickle
K = args.get("K", cfg["sdl"]["n_atoms"])
cache = f"/tmp/vlmbrain_recovery_atoms_{K}_{args.get('alpha',1.0)}.pkl"
atoms = pickle.load(open(cache, "rb")) if os.path.exists(cache) else {}
for m in models:
    for st, info in man[m]["streams"].items():
        for L in range(info["n_layers"]):
            if (m, st, L) in atoms: continue
            R = pipe.transform(np.asarray(load_layer(f"{ACT}/{m}", st, L)))
            atoms[(m, st, L)] = learn_atoms(R, n_atoms=K, alpha=args.get("alpha", 1.0), max_iter=args.get("max_iter", 10))["atoms"]
pickle.dump(atoms, open(cache, "wb"))
atoms = {k: v for k, v in atoms.items() if k[0] in models}
print("atoms", time.time() - t0, flush=True)
get = lambda m, st, L: load_layer(f"{ACT}/{m}", st, L)
betas = {k: [] for k in atoms}
for s in range(args.get("subjects", 6)):
    Y = simulate_bold(s, rows, truth, arr, get, sim, masks.shape[1])[keep]
    for sl in run_slices(rows["run"].to_numpy()[keep]):
        Y[sl] = zscore(Y[sl])
    for k, D in atoms.items():
        betas[k].append(ar1_glm(Y, add_intercept(D))["beta"][:-1])
print("glm", time.time() - t0, flush=True)
det = []
anysig = []
for k, b in betas.items():
    g = group_maps(b, q=0.05)
    anysig += list((g["activated"] | g["deactivated"]).any(1))
    t = layer_overlap_table(g["activated"], g["deactivated"], names, masks)
    for _, r in t[t.drives].iterrows():
        det.append((*k, r.network, int(r.sign), r.overlap_rate))
det = pd.DataFrame(det, columns=["model", "stream", "layer", "network", "sign", "rate"])
det = det.groupby(["model", "stream", "layer", "network", "sign"]).rate.max().reset_index()
planted = {(c["model"], c["stream"], c["layer"], c["network"]) for c in couplings}
players = {(c["model"], c["stream"], c["layer"]) for c in couplings}
miss = [c for c in couplings if not ((det.model == c["model"]) & (det.stream == c["stream"]) & (det.layer == c["layer"]) & (det.network == c["network"]) & (det.sign == c["sign"])).any()]
fp = det[[ (m, s, l) in players and (m, s, l, n) not in planted for m, s, l, n in zip(det.model, det.stream, det.layer, det.network)]]
ncells = sum(2 * (len(names) - len({n for (m, s, l, n) in planted if (m, s, l) == p})) for p in players)
print(json.dumps(args), "missed", [(c["stream"], c["layer"], c["network"]) for c in miss], "FP", len(fp), "/", ncells, "anysig", np.mean(anysig).round(3))
print(fp.to_string())
print(det[[ (m, s, l) in players for m, s, l in zip(det.model, det.stream, det.layer)]].to_string())
