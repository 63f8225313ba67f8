"""The default run's compute floor per stage, beside its measured CPU time.

The floor of a stage is its dominant floating-point work divided by ``--cores`` (2) times
this machine's one-thread GEMM rate per CPU-second (:func:`gemm_rates`): no implementation
of the same computation on the same cores can be much faster. Work is counted from the shapes of the run the config describes:

* extraction: the forward-pass FLOPs of each configured model, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` on the architecture as the workflow builds
  it (``vlmbrain.models.registry.build_model``, seeded random weights), per frame and per
  caption, times the movie TRs (one forward pass each; ``an.frames_per_tr`` frames are
  averaged into one image first) and the unique captions of the movie TRs (the stimulus
  tables are built in memory with ``vlmbrain.stimuli``, as the ``stimulus_tables`` rule
  builds them; METER runs once per movie TR on its frame and caption together);
* encoding (``encoding`` rule): per subject and stream-layer, the AR(1) GLM on the layer's
  ``sdl.n_atoms`` atoms and an intercept (``2 T V 3P`` for the stacked ``[X, lag, lead]'Y``
  GEMM, ``4 T V`` for the two column dot products, ``6 P^2 V`` for the per-target solves)
  and the leave-one-run-out ridge (``2 T K V`` for the per-run statistics, then
  ``R ((R-1)(2A+4) + 6) K^2 V`` for the inner CV and refits, A = ``encoding.ridge_alphas``);
* attribution (``attribution_subject``): per subject and stream-layer, the cost formula of
  :mod:`vlmbrain.attribution.banded` for the joint banded model (layer components plus its
  references, ``n_ratios`` candidates) and the stream alone (one candidate), plus each
  reference set alone once per subject and model;
* per-neuron encoders: per subject and stream-layer every AN against every parcel
  (``neurons_subject``: the pairwise AR(1) GLM's two GEMMs, ``4 N T parcels``), per
  stream-layer the group's circular-shift null on parcels (``2 N (T + F) parcels``, F = T/2 + 1
  rfft bins) and, with ``neurons.grayordinate``, every AN against every grayordinate of the
  cohort mean (``2 N (T + F) V``);
* everything else (movie rendering, simulation, SDL, networks, figures, report) is not
  counted: its floor is shown as 0.

The extraction floor uses torch's float32 CPU matmul rate, the other stages numpy's float32
rate at the per-neuron encoders' GEMM shape (the fastest of the rates measured, so the floor
is a lower bound); the rate of the thin GEMM the GLM does (``3P x T`` by ``T x chunk``,
limited by memory bandwidth rather than arithmetic) is given beside it. The measured side is
a finished run's CPU seconds per stage (``--benchmarks``), else the numbers recorded in
bench/README.md ("The default run's cost per stage"), divided by the cores.

    .venv/bin/python bench/workflow/floor.py [--fast] [--benchmarks results/benchmarks] [--cores 2]
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["extraction", "encoding", "attribution", "neurons", "rest"]
# CPU seconds of a fresh-clone default run at 16 components (bench/README.md, "The default
# run's cost per stage", 2026-11-30)
RECORDED_CPU_S = {"attribution": 961.0, "extraction": 704.0, "encoding": 659.0, "neurons": 592.0, "rest": 249.0}


# ----------------------------------------------------------------------------- the run


def _merge(base, over):
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def load_config(fast):
    """The default config, with the test suite's tiny config laid over it in ``--fast``."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    if fast:
        config = _merge(config, yaml.safe_load((ROOT / "tests/config/tiny.yaml").read_text()))
    return config


def stimulus_counts(config):
    """Movie TRs, runs and the unique captions of the movie TRs of the simulated movie.

    Returns
    -------
    dict
        ``runs``, ``trs`` (all TRs), ``movie_trs`` (TRs kept with ``temporal.drop_rest``;
        one forward pass of an image model each), ``captions`` (sorted unique captions of
        the movie TRs, as extraction runs them), ``movie_captions`` (the caption of each
        movie TR, as METER gets them).
    """
    import pandas as pd

    from vlmbrain.stimuli.movie import make_movie
    from vlmbrain.stimuli.table import build_stimulus_table

    tr = float(config["data"]["tr"])
    movie = make_movie(config["simulation"], tr)
    segments = pd.concat([plan["segments"] for plan in movie.values()], ignore_index=True)
    tables = [build_stimulus_table(run, plan["n_trs"], tr, segments, plan["captions"], video=f"{run}.mp4")
              for run, plan in movie.items()]
    table = pd.concat(tables, ignore_index=True)
    movie_rows = table["condition"].to_numpy() == "movie"
    captions = table["caption"].fillna("").astype(str).to_numpy()[movie_rows]
    return {"runs": len(movie), "trs": len(table), "movie_trs": int(movie_rows.sum()),
            "captions": list(np.unique(captions)), "movie_captions": list(captions)}


# ----------------------------------------------------------------------------- rates


def gemm_rates(fast, repeats=3):
    """GFLOP per CPU-second of float32 / float64 numpy and float32 torch (CPU) matmul, one thread.

    Timed in CPU seconds of this process (``time.process_time``), not wall seconds, so that
    other work on a shared machine does not lower the rate (it is compared with the jobs'
    CPU seconds); one thread, so that no spinning BLAS thread inflates the CPU time. The
    floor on c cores assumes the c cores together do c times this rate.

    Shapes: numpy ``N x T`` by ``T x chunk`` (the per-neuron encoders' GEMM: 768 ANs, 405
    TRs, 8,192 grayordinates), the GLM's thin ``27 x T`` by ``T x 20,000``, and torch a ViT-B
    MLP GEMM of a 16-frame batch (``3,152 x 768`` by ``768 x 3,072``); a quarter of each
    side in ``--fast``. Best of ``repeats``.
    """
    import torch
    from threadpoolctl import threadpool_limits

    s = 4 if fast else 1
    rng = np.random.default_rng(0)
    shapes = {"numpy_f32": (768 // s, 405, 8192 // s, np.float32),
              "numpy_f64": (768 // s, 405, 8192 // s, np.float64),
              "numpy_f32_thin": (27, 405, 20000 // s, np.float32)}
    rates = {}
    with threadpool_limits(1):
        for name, (m, k, n, dtype) in shapes.items():
            a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
            a @ b
            best = min(_cpu_seconds(lambda a=a, b=b: a @ b) for _ in range(repeats))
            rates[name] = 2.0 * m * k * n / best / 1e9
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        m, k, n = 3152 // s, 768 // s, 3072 // s
        a, b = torch.randn(m, k), torch.randn(k, n)
        a @ b
        best = min(_cpu_seconds(lambda: a @ b) for _ in range(repeats))
        rates["torch_f32"] = 2.0 * m * k * n / best / 1e9
    finally:
        torch.set_num_threads(threads)
    return rates


def _cpu_seconds(f, floor=0.05):
    """CPU seconds of one call of ``f``, repeated until ``floor`` seconds have passed."""
    n, t0 = 0, time.process_time()
    while True:
        f()
        n += 1
        spent = time.process_time() - t0
        if spent >= floor:
            return spent / n


# ----------------------------------------------------------------------------- extraction


def _flops(run):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        run()
    return counter.get_total_flops()


def model_costs(config, counts, batch=4):
    """Forward-pass FLOPs per frame and per caption of each configured model, and its streams.

    Each model is built as the workflow builds it, counted on ``batch`` frames of the
    simulation's size and on the first ``batch`` of its real captions, then freed.

    Returns
    -------
    dict
        ``{model: {"frame": FLOPs, "caption": FLOPs, "joint": FLOPs, "streams":
        {stream: (n_layers, n_ans)}}}`` (FLOPs per stimulus; 0 where the model takes no
        such input).
    """
    from vlmbrain.models.base import IMAGE, JOINT, TEXT
    from vlmbrain.models.registry import build_model

    size = int(config["simulation"]["frame_size"])
    frames = [np.random.default_rng(i).integers(0, 255, (size, size, 3), dtype=np.uint8) for i in range(batch)]
    captions = counts["captions"][:batch]
    joint_captions = counts["movie_captions"][:batch]
    ex = config["extraction"]
    out = {}
    for key, settings in config["models"].items():
        model = build_model(key, settings, seed=ex["seed"], cache_dir=ex.get("cache_dir"))
        kinds = set(model.inputs.values())
        cost = {"frame": 0.0, "caption": 0.0, "joint": 0.0,
                "streams": {s: (i.n_layers, i.n_ans) for s, i in model.streams.items()}}
        if JOINT in kinds:
            cost["joint"] = _flops(lambda m=model: m.run(images=frames, texts=joint_captions)) / batch
        elif IMAGE in kinds:
            cost["frame"] = _flops(lambda m=model: m.run(images=frames)) / batch
        if TEXT in kinds:
            cost["caption"] = _flops(lambda m=model: m.run(texts=captions)) / len(captions)
        out[key] = cost
        del model
        gc.collect()
    return out


# ----------------------------------------------------------------------------- the GEMM stages


def glm_flops(T, V, P):
    """AR(1) GLM of ``P`` regressors (intercept included) on ``V`` targets of ``T`` TRs."""
    return 2.0 * T * V * 3 * P + 4.0 * T * V + 6.0 * P * P * V


def ridge_flops(T, V, K, R, A):
    """Leave-one-run-out ridge of ``K`` regressors, ``R`` runs, ``A`` alphas."""
    return 2.0 * T * K * V + R * ((R - 1) * (2 * A + 4) + 6) * K * K * V


def banded_flops(T, V, P, R, K, A):
    """Banded ridge, :mod:`vlmbrain.attribution.banded`'s formula (``K`` candidates)."""
    return R * (R - 1) * K * (3 + 2 * A) * P * P * V + 6.0 * R * P * P * V + 2.0 * T * P * V


def null_flops(N, T, V):
    """Circular-shift null of ``N`` series against ``V``: ``r`` and the periodogram GEMM."""
    return 2.0 * N * (T + T // 2 + 1) * V


def stage_flops(config, counts, models, n_grayordinates, n_parcels):
    """FLOPs of each stage of the run (``rest``: 0, not counted), with what was counted."""
    S = int(config["simulation"]["subjects"])
    T = counts["movie_trs"] if config["temporal"]["drop_rest"] else counts["trs"]
    R, V = counts["runs"], n_grayordinates
    enc, att, neu = config["encoding"], config["attribution"], config["neurons"]
    n_captions = len(counts["captions"])
    flops = dict.fromkeys(STAGES, 0.0)
    layers = 0
    for key, m in models.items():
        flops["extraction"] += counts["movie_trs"] * (m["frame"] + m["joint"]) + n_captions * m["caption"]
        reference_sets = set()
        for stream, (n_layers, n_ans) in m["streams"].items():
            layers += n_layers
            K = min(int(config["sdl"]["n_atoms"]), n_ans)
            flops["encoding"] += S * n_layers * (glm_flops(T, V, K + 1)
                                                 + ridge_flops(T, V, K, R, len(enc["ridge_alphas"])))
            if att["enabled"]:
                names = tuple(att["against"][stream])
                reference_sets.add(names)
                p_s, p_r = int(att["n_components"]), int(att["reference_components"]) * len(names)
                A = len(att["alphas"])
                flops["attribution"] += S * n_layers * (banded_flops(T, V, p_s + p_r, R, int(att["n_ratios"]), A)
                                                        + banded_flops(T, V, p_s, R, 1, A))
            if neu["enabled"]:
                flops["neurons"] += n_layers * (S * 4.0 * n_ans * T * n_parcels + null_flops(n_ans, T, n_parcels))
                if neu["grayordinate"]:
                    flops["neurons"] += n_layers * null_flops(n_ans, T, V)
        for names in reference_sets:
            flops["attribution"] += S * banded_flops(T, V, int(att["reference_components"]) * len(names), R, 1,
                                                     len(att["alphas"]))
    what = (f"{S} subjects, {R} runs, {T} movie TRs, {V:,} grayordinates, {n_parcels} parcels, "
            f"{layers} stream-layers, {counts['movie_trs']} frames, {n_captions} unique captions")
    return flops, what


# ----------------------------------------------------------------------------- measured


def stage_of(rule):
    """The stage a rule's CPU time counts to (bench/README.md's grouping)."""
    if rule == "activations":
        return "extraction"
    if rule in ("encoding", "noise_ceiling", "group"):
        return "encoding"
    if rule.startswith("attribution_"):
        return "attribution"
    if rule.startswith("neurons_"):
        return "neurons"
    return "rest"


def measured_cpu(benchmarks=None):
    """CPU seconds per stage of a finished run, else the recorded ones; and their source."""
    if benchmarks is None:
        return dict(RECORDED_CPU_S), "recorded in bench/README.md (fresh-clone default run, 2026-11-30)"
    from bench.workflow.end_to_end import read_benchmarks

    jobs = read_benchmarks(benchmarks)
    cpu = jobs.groupby(jobs["rule"].map(stage_of))["cpu_time"].sum()
    return {s: float(cpu.get(s, 0.0)) for s in STAGES}, f"{len(jobs)} benchmark files in {benchmarks}"


# ----------------------------------------------------------------------------- the table


def measure(fast, benchmarks=None, cores=2):
    """Rates, FLOPs, floors and measured seconds per stage (see the module's docstring)."""
    from vlmbrain.fmri.cifti import N_GRAYORDINATES
    from vlmbrain.neurons.parcels import load_parcellation

    config = load_config(fast)
    counts = stimulus_counts(config)
    rates = gemm_rates(fast)
    models = model_costs(config, counts)
    names, _ = load_parcellation(config["neurons"]["parcellation"])
    flops, what = stage_flops(config, counts, models, N_GRAYORDINATES, len(names))
    cpu, source = measured_cpu(benchmarks)
    stages = {}
    for s in STAGES:
        rate = cores * 1e9 * (rates["torch_f32"] if s == "extraction" else rates["numpy_f32"])
        stages[s] = {"flops": flops[s], "floor_s": flops[s] / rate, "cpu_s": cpu[s],
                     "measured_s": cpu[s] / cores,
                     "floor_thin_s": None if s == "extraction" else flops[s] / (cores * 1e9 * rates["numpy_f32_thin"])}
    per_model = {k: {"frame": m["frame"] / 1e9, "caption": m["caption"] / 1e9, "frame+caption": m["joint"] / 1e9}
                 for k, m in models.items()}
    return {"rates_gflops": rates, "stages": stages, "size": what, "source": source, "cores": cores,
            "models": per_model, "frames": counts["movie_trs"], "captions": len(counts["captions"])}


def rows(fast, benchmarks=None, cores=2):
    """One line per stage (measured / floor) and the run's total floor against 600 s."""
    from bench.table import Row

    m = measure(fast, benchmarks, cores)
    r = m["rates_gflops"]
    rates = (f"GEMM GFLOP per CPU-second, one thread: numpy f32 {r['numpy_f32']:.0f}, f64 {r['numpy_f64']:.0f}, "
             f"f32 thin (GLM shape) {r['numpy_f32_thin']:.0f}, torch f32 {r['torch_f32']:.0f}")
    tag = "tiny config; " if fast else ""
    out = []
    for s, st in m["stages"].items():
        counted = st["flops"] > 0
        note = f"{st['flops'] / 1e12:.2f} TFLOP; " if counted else "not counted (no dominant GEMM); "
        if st["floor_thin_s"]:
            note += f"{st['floor_thin_s']:.0f} s at the thin-GEMM rate; "
        out.append(Row(f"floor_{s}", f"measured CPU s / {cores} cores ({m['source'].split(' (')[0]})",
                       st["measured_s"], f"FLOPs / GEMM rate on {cores} cores" if counted else "",
                       st["floor_s"] if counted else None, size=tag + m["size"], note=note + rates, extra=st))
    total = sum(st["floor_s"] for st in m["stages"].values())
    measured = sum(st["measured_s"] for st in m["stages"].values())
    per_model = "; ".join(f"{k}: " + ", ".join(f"{v:.3g} GFLOP per {n}" for n, v in g.items() if v)
                          for k, g in m["models"].items())
    out.append(Row("floor_total", f"the run's floor on {cores} cores (sum of the stages)", total,
                   f"measured CPU s / {cores} cores", measured, target=f"<= 600 s on {cores} cores",
                   met=total <= 600, size=tag + m["size"], note=f"ratio: floor / measured; {per_model}; " + rates,
                   extra=m))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="the tiny test config, smaller GEMMs")
    ap.add_argument("--benchmarks", type=Path, help="a finished run's results/benchmarks folder")
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    from bench.table import text_table

    print(text_table(rows(args.fast, args.benchmarks, args.cores)))


if __name__ == "__main__":
    main()
