"""The jobs of the simulation rules: one function per rule, named for it."""

from __future__ import annotations

import logging

import numpy as np

from vlmbrain.fmri.cifti import template_brain_models, write_dtseries
from vlmbrain.io import read_tsv
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.bold import simulate_bold as simulate
from vlmbrain.simulation.truth import check_couplings, coupling_likeness, plant, write_ground_truth
from vlmbrain.stimuli.table import read_stimulus_tables, read_timing, run_slices

log = logging.getLogger("vlmbrain")

__all__ = ["ground_truth", "simulate_bold"]


def ground_truth(*, networks, tables, activations, tsv, npz, models, couplings, fraction,
                 n_ans, seed):
    """Rule ``ground_truth``: draw the planted ANs and grayordinates of every coupling.

    Parameters
    ----------
    networks : str
        ``networks/networks.npz``.
    tables : list of str
        Stimulus tables, in run order.
    activations : list of str
        Activations folders of ``models`` (the planted models), in the same order.
    tsv, npz : str
        Output ground truth (table and arrays).
    models : list of str
    couplings : list of dict
        ``simulation.couplings``.
    fraction, n_ans, seed
        ``simulation.fraction``, ``simulation.ans_per_coupling``, ``simulation.seed``.
    """
    names, masks = load_networks(networks)
    folders = dict(zip(models, activations, strict=True))
    manifests = {m: load_activations(d) for m, d in folders.items()}
    check_couplings(couplings, manifests, names)
    movie = read_stimulus_tables(tables)["condition"].to_numpy() == "movie"
    likeness = coupling_likeness(
        couplings, manifests, lambda m, s, layer: load_layer(folders[m], s, layer), movie
    )
    table, arrays = plant(
        couplings, manifests, names, masks, fraction=fraction, n_ans=n_ans, seed=seed,
        likeness=likeness,
    )
    write_ground_truth(tsv, npz, table, arrays)
    log.info("planted %d couplings", len(table))


def simulate_bold(*, tsv, npz, tables, activations, bold, models, subject_index, seed, sigma,
                  ar1, drift, subject_variability, tr, hrf):
    """Rule ``simulate_bold``: one subject's simulated CIFTI runs.

    Parameters
    ----------
    tsv, npz : str
        The ground truth.
    tables : list of str
    activations : list of str
        Activations folders of ``models`` (the planted models), in the same order.
    bold : list of str
        Output dtseries, one per run.
    models : list of str
    subject_index : int
        0-based subject number (seeds its noise).
    seed : int
        ``simulation.seed``.
    sigma, ar1, drift, subject_variability : float
        ``simulation.noise.*``.
    tr : float
    hrf : str
        ``temporal.hrf``.
    """
    simulation = {
        "seed": seed,
        "noise": {"sigma": sigma, "ar1": ar1, "drift": drift,
                  "subject_variability": subject_variability},
    }
    folders = dict(zip(models, activations, strict=True))
    rows = read_timing(list(tables))
    truth = read_tsv(tsv, dtype={"model": str, "stream": str, "network": str, "ans": str})
    with np.load(npz) as data:
        arrays = {k: data[k] for k in ("masks", "weights", "ans")}
    bm = template_brain_models()

    def get_layer(model, stream, layer):
        return load_layer(folders[model], stream, layer)

    Y = simulate(subject_index, rows, truth, arrays, get_layer, simulation, len(bm), tr, hrf)
    for path, sl in zip(list(bold), run_slices(rows["run"].to_numpy()), strict=True):
        write_dtseries(path, Y[sl], tr, bm)
