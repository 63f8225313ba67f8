"""Ground truth of the simulation: which ANs drive which grayordinates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vlmbrain.io import save_npz, write_tsv

COLUMNS = ["model", "stream", "layer", "network", "sign", "strength", "like", "n_grayordinates", "ans"]
LIKE_STREAMS = ("image", "text")
LIKE_POOL = 0.25  # share of a layer's ANs among which a ``like`` coupling draws its ANs


def coupling_problems(couplings, streams, names):
    """What is wrong with the couplings: a model, stream, layer or network that does not
    exist, or a ``like`` that cannot apply. The one check of the couplings, run on the
    config before any job (``validate_inputs``, ``streams`` from
    :func:`vlmbrain.models.registry.model_streams`) and on the activations' manifests by
    the ground truth job.

    Parameters
    ----------
    couplings : list of dict
        ``simulation.couplings``.
    streams : dict
        ``{model: {stream: n_layers}}``; a model mapped to None (its architecture is
        not known) is not checked further.
    names : list of str
        Network names.

    Returns
    -------
    list of str
        One message per fault, naming ``simulation.couplings[i]`` and the fix.
    """
    problems = []
    for i, c in enumerate(couplings):
        where = f"simulation.couplings[{i}] ({c})"
        if c["network"] not in names:
            problems.append(f"{where}: network {c['network']!r} is not one of {list(names)}")
        if c["model"] not in streams:
            problems.append(f"{where}: model {c['model']!r} is not in models: {sorted(streams)}")
            continue
        layers = streams[c["model"]]
        if layers is None:
            continue
        if c["stream"] not in layers:
            problems.append(
                f"{where}: {c['model']} has no stream {c['stream']!r}; its streams are "
                f"{sorted(layers)}"
            )
            continue
        n_layers = int(layers[c["stream"]])
        if not 0 <= int(c["layer"]) < n_layers:
            problems.append(
                f"{where}: layer {c['layer']} does not exist; {c['model']} {c['stream']} has "
                f"{n_layers} layers, so layer must be in 0..{n_layers - 1}"
            )
        like = c.get("like")
        if like is not None:
            if like not in LIKE_STREAMS:
                problems.append(f"{where}: like must be one of {list(LIKE_STREAMS)}, not {like!r}")
            elif not set(LIKE_STREAMS) <= set(layers):
                problems.append(
                    f"{where}: like needs a model with both image and text streams; "
                    f"{c['model']} has {sorted(layers)}. Remove 'like' from this coupling."
                )
    return problems


def check_couplings(couplings, manifests, names):
    """Refuse couplings naming a model, stream, layer or network that does not exist
    (:func:`coupling_problems` on the activations' manifests).

    Parameters
    ----------
    couplings : list of dict
        ``simulation.couplings``.
    manifests : dict
        ``{model: activations manifest}``.
    names : list of str
        Network names.

    Raises
    ------
    ValueError
        Listing every fault.
    """
    streams = {
        model: {s: int(info["n_layers"]) for s, info in manifest["streams"].items()}
        for model, manifest in manifests.items()
    }
    problems = coupling_problems(couplings, streams, names)
    if problems:
        raise ValueError("\n".join(problems))


def span_r2(X, Z, n_components=8):
    """R^2 of each column of ``X`` on the leading principal components of ``Z``.

    Parameters
    ----------
    X : ndarray (T, N)
        Series to explain (each is centred).
    Z : ndarray (T, M)
        Reference series, same rows.
    n_components : int
        Principal components of ``Z``.

    Returns
    -------
    ndarray (N,)
    """
    Xc = np.asarray(X, np.float64) - np.mean(X, axis=0)
    norm = np.linalg.norm(Xc, axis=0)
    Xn = Xc / np.where(norm > 0, norm, 1.0)
    Zc = np.asarray(Z, np.float64) - np.mean(Z, axis=0)
    U = np.linalg.svd(Zc, full_matrices=False)[0][:, :n_components]
    return np.sum((U.T @ Xn) ** 2, axis=0)


def modality_likeness(X, X_image, X_text, n_components=8):
    """How much more each AN follows the image stream than the text stream.

    Parameters
    ----------
    X : ndarray (T, N)
        The layer's AN series over movie TRs.
    X_image, X_text : ndarray (T, N_image), (T, N_text)
        Reference layers of the same model's image and text streams, same TRs.
    n_components : int
        Principal components of each reference layer.

    Returns
    -------
    ndarray (N,)
        :func:`span_r2` of each AN on the image layer minus on the text layer: > 0 for
        image-like ANs, < 0 for text-like ones.
    """
    return span_r2(X, X_image, n_components) - span_r2(X, X_text, n_components)


def coupling_likeness(couplings, manifests, get_layer, movie):
    """:func:`modality_likeness` of every layer that a ``like`` coupling plants from.

    Parameters
    ----------
    couplings : list of dict
    manifests : dict
        ``{model: manifest}``.
    get_layer : callable
        ``get_layer(model, stream, layer) -> T_all x N`` activations.
    movie : ndarray of bool (T_all,)
        Movie TRs (rest TRs are left out).

    Returns
    -------
    dict
        ``{(model, stream, layer): likeness}``; the references are the last layers of the
        model's image and text streams.
    """
    out = {}
    for c in couplings:
        key = (c["model"], c["stream"], int(c["layer"]))
        if c.get("like") is None or key in out:
            continue
        streams = manifests[c["model"]]["streams"]
        ref = {s: get_layer(c["model"], s, int(streams[s]["n_layers"]) - 1)[movie] for s in LIKE_STREAMS}
        out[key] = modality_likeness(get_layer(*key)[movie], ref["image"], ref["text"])
    return out


def plant(couplings, manifests, names, masks, fraction=0.35, n_ans=32, seed=0, likeness=None):
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
    likeness : dict, optional
        ``{(model, stream, layer): modality_likeness(...)}`` for the layers of couplings
        with ``like``: such a coupling draws its ANs among the :data:`LIKE_POOL` share of
        the layer's ANs most like the ``like`` stream (image: largest likeness, text:
        smallest).

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
        pool = np.arange(n_total)
        if c.get("like") is not None:
            key = (c["model"], c["stream"], int(c["layer"]))
            if likeness is None or key not in likeness:
                raise ValueError(f"simulation.couplings[{i}]: like={c['like']!r} needs the likeness of {key}")
            order = np.argsort(-np.asarray(likeness[key]) if c["like"] == "image" else likeness[key], kind="stable")
            pool = np.sort(order[: max(1, int(round(LIKE_POOL * n_total)))])
        k = min(n_ans, pool.size)
        ans = np.sort(rng.choice(pool, size=k, replace=False))
        w = rng.uniform(0.5, 1.5, size=k).astype(np.float32)
        net = np.flatnonzero(masks[names.index(c["network"])])
        n_pick = max(1, int(round(fraction * net.size)))
        planted[i, rng.choice(net, size=n_pick, replace=False)] = True
        weights[i, :k] = w
        ans_arr[i, :k] = ans
        rows.append((c["model"], c["stream"], int(c["layer"]), c["network"], int(c["sign"]),
                     float(c.get("strength", 1.0)), c.get("like") or "", n_pick, ",".join(map(str, ans))))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, {"masks": planted, "weights": weights, "ans": ans_arr}


def write_ground_truth(tsv_path, npz_path, table, arrays):
    """Write ``ground_truth.tsv`` and ``ground_truth.npz``."""
    write_tsv(tsv_path, table)
    save_npz(npz_path, **arrays)
