"""Ground truth of the simulation: which ANs drive which grayordinates (METHOD 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vlmbrain.io import save_npz, write_tsv

COLUMNS = ["model", "stream", "layer", "network", "sign", "strength", "n_grayordinates", "ans"]


def check_couplings(couplings, manifests, names):
    """Refuse couplings naming a model, stream, layer or network that does not exist.

    Parameters
    ----------
    couplings : list of dict
        ``simulation.couplings``.
    manifests : dict
        ``{model: activations manifest}``.
    names : list of str
        Network names.
    """
    for i, c in enumerate(couplings):
        where = f"simulation.couplings[{i}] ({c})"
        if c["model"] not in manifests:
            raise ValueError(f"{where}: model {c['model']!r} is not in models: {sorted(manifests)}")
        streams = manifests[c["model"]]["streams"]
        if c["stream"] not in streams:
            raise ValueError(f"{where}: {c['model']} has no stream {c['stream']!r} ({sorted(streams)})")
        n_layers = int(streams[c["stream"]]["n_layers"])
        if not 0 <= int(c["layer"]) < n_layers:
            raise ValueError(f"{where}: layer must be in 0..{n_layers - 1}")
        if c["network"] not in names:
            raise ValueError(f"{where}: network {c['network']!r} is not one of {list(names)}")


def plant(couplings, manifests, names, masks, fraction=0.35, n_ans=32, seed=0):
    """Draw the planted ANs, their positive weights and the planted grayordinates.

    Parameters
    ----------
    couplings : list of dict
        ``{model, stream, layer, network, sign, strength}`` each.
    manifests : dict
        ``{model: manifest}`` (``streams[stream]`` has ``n_heads``, ``head_dim``).
    names, masks : network names and masks (n_networks x V bool).
    fraction : float
        Part of the network's grayordinates that carry the coupling.
    n_ans : int
        ANs mixed per coupling (fewer when the layer has fewer).
    seed : int

    Returns
    -------
    table : DataFrame with :data:`COLUMNS`
    arrays : dict
        ``masks`` (n_couplings x V bool), ``weights`` (n_couplings x n_ans float32, padded
        with 0), ``ans`` (same shape, int, padded with -1).
    """
    names = list(names)
    check_couplings(couplings, manifests, names)
    rng = np.random.default_rng(seed)
    n_vox = masks.shape[1]
    planted = np.zeros((len(couplings), n_vox), bool)
    width = max([n_ans, 1])
    weights = np.zeros((len(couplings), width), np.float32)
    ans_arr = np.full((len(couplings), width), -1, np.int64)
    rows = []
    for i, c in enumerate(couplings):
        info = manifests[c["model"]]["streams"][c["stream"]]
        n_total = int(info["n_heads"]) * int(info["head_dim"])
        k = min(n_ans, n_total)
        ans = np.sort(rng.choice(n_total, size=k, replace=False))
        w = rng.uniform(0.5, 1.5, size=k).astype(np.float32)
        net = np.flatnonzero(masks[names.index(c["network"])])
        n_pick = max(1, int(round(fraction * net.size)))
        planted[i, rng.choice(net, size=n_pick, replace=False)] = True
        weights[i, :k] = w
        ans_arr[i, :k] = ans
        rows.append((c["model"], c["stream"], int(c["layer"]), c["network"], int(c["sign"]),
                     float(c.get("strength", 1.0)), n_pick, ",".join(map(str, ans))))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, {"masks": planted, "weights": weights, "ans": ans_arr}


def write_ground_truth(tsv_path, npz_path, table, arrays):
    """Write ``ground_truth.tsv`` and ``ground_truth.npz``."""
    write_tsv(tsv_path, table)
    save_npz(npz_path, **arrays)
