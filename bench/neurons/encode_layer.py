"""Per-AN encoding of one layer at HCP scale, timed against the GEMM bound.

Parcel level (per subject): N ANs x P parcels x T TRs, Pearson r + AR(1) GLM t
(``ar1_glm(Y, X, pairwise=True)``, float64), versus its two GEMMs alone; the cohort cost is that times
the number of subjects (one job per subject x model). Grayordinate level (once for the
cohort): N ANs x V grayordinates with the circular-shift null (``GrayordinateEncoder``,
float32), versus its two GEMMs alone (``X.T @ Y`` and the periodogram product).

Usage: ``.venv/bin/python bench/neurons/encode_layer.py [--trs 3600] [--no-grayordinate]``;
``python -m bench`` runs :func:`rows` as part of the whole table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vlmbrain.neurons.cohort import GrayordinateEncoder
from vlmbrain.stats import ar1_glm, center
from vlmbrain.neurons.null import _weighted_periodogram, unit_columns


def best_time(fn, repeat=3):
    """Best wall time of ``repeat`` calls (s)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(T, N, P, V, grayordinate=True, n_shifts=200, seed=0):
    """Time one layer's per-AN encoders and their GEMMs alone.

    Returns
    -------
    dict
        ``parcel_s`` and ``parcel_gemm_s`` (one subject), ``parcel_gflops``; with
        ``grayordinate``: ``setup_s`` (target preparation, once per model), ``grayordinate_s``,
        ``grayordinate_gemm_s``, ``grayordinate_gflops``, ``significant_pairs``,
        ``threshold``, ``calibration``.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, N)).astype(np.float32)
    Y = rng.standard_normal((T, P)).astype(np.float32)
    full = best_time(lambda: ar1_glm(Y, X, pairwise=True))
    Xc, Yc = center(X), center(Y)
    Xs, Ys = Xc[1:] + Xc[:-1], Yc[1:] + Yc[:-1]
    gemm = best_time(lambda: (Xc.T @ Yc, Xs.T @ Ys))
    out = {"parcel_s": full, "parcel_gemm_s": gemm, "parcel_gflops": 2 * 2 * N * P * T / gemm / 1e9}
    if not grayordinate:
        return out
    target = rng.standard_normal((T, V)).astype(np.float32)
    masks = np.zeros((4, V), bool)
    for k in range(4):
        masks[k, k * V // 8 : (k + 1) * V // 8] = True
    t0 = time.perf_counter()
    encoder = GrayordinateEncoder(target, masks, n_shifts=n_shifts)
    out["setup_s"] = time.perf_counter() - t0
    del target
    t0 = time.perf_counter()
    res = encoder.encode(X)
    out["grayordinate_s"] = time.perf_counter() - t0
    Xu = unit_columns(X)
    Px = _weighted_periodogram(Xu, T)
    F = Px.shape[0]
    chunk = encoder.chunk_size

    def gemms():
        for s in range(0, V, chunk):
            Xu.T @ encoder.unit[:, s : s + chunk]
            Px.T @ encoder.power[:, s : s + chunk]

    out["grayordinate_gemm_s"] = best_time(gemms, repeat=1)
    out["grayordinate_gflops"] = 2 * N * V * (T + F) / out["grayordinate_gemm_s"] / 1e9
    out.update(significant_pairs=int(res["an_total"].sum()), threshold=float(res["threshold"]),
               calibration=float(res["calibration"]))
    return out


def rows(fast):
    """The table's per-neuron lines: parcel level (one subject) and grayordinate level (cohort)."""
    from bench.table import Row

    T, N, P, V = (300, 64, 100, 4000) if fast else (3600, 768, 718, 91282)
    m = measure(T, N, P, V, n_shifts=20 if fast else 200)
    target = "ratio <= 2.5"
    return [
        Row("neurons_parcel_vs_gemm", "per-AN r + AR(1) t, parcel level, one subject", m["parcel_s"],
            "its 2 GEMMs alone", m["parcel_gemm_s"], target, m["parcel_s"] <= 2.5 * m["parcel_gemm_s"],
            f"{N} ANs x {P} parcels x {T:,} TRs, float64", f"{m['parcel_gflops']:.1f} GFLOP/s in the GEMMs", m),
        Row("neurons_grayordinate_vs_gemm", "per-AN r + circular-shift null, grayordinate level",
            m["grayordinate_s"], "its 2 GEMMs alone", m["grayordinate_gemm_s"], target,
            m["grayordinate_s"] <= 2.5 * m["grayordinate_gemm_s"],
            f"{N} ANs x {V:,} grayordinates x {T:,} TRs, float32",
            f"{m['grayordinate_gflops']:.1f} GFLOP/s in the GEMMs; "
            f"target preparation {m['setup_s']:.2f} s once per model"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trs", type=int, default=3600)
    parser.add_argument("--ans", type=int, default=768)
    parser.add_argument("--parcels", type=int, default=718)
    parser.add_argument("--subjects", type=int, default=184)
    parser.add_argument("--grayordinates", type=int, default=91282)
    parser.add_argument("--no-grayordinate", action="store_true")
    args = parser.parse_args(argv)
    T, N, P, S, V = args.trs, args.ans, args.parcels, args.subjects, args.grayordinates
    m = measure(T, N, P, V, grayordinate=not args.no_grayordinate)
    full, gemm = m["parcel_s"], m["parcel_gemm_s"]
    print(f"parcel level, one subject: {N} ANs x {P} parcels x {T} TRs (float64)")
    print(f"  ar1_glm pairwise {full:.3f} s; its 2 GEMMs alone {gemm:.3f} s "
          f"({m['parcel_gflops']:.1f} GFLOP/s); ratio {full / gemm:.2f}")
    print(f"  cohort of {S} subjects: {S * full:.0f} s per layer "
          f"(GEMM bound {S * gemm:.0f} s), in {S} independent jobs")
    if args.no_grayordinate:
        return
    encode, gemm_g = m["grayordinate_s"], m["grayordinate_gemm_s"]
    print(f"grayordinate level, cohort: {N} ANs x {V} grayordinates x {T} TRs (float32)")
    print(f"  target preparation (once per model) {m['setup_s']:.1f} s")
    print(f"  encode one layer {encode:.1f} s; its 2 GEMMs alone {gemm_g:.1f} s "
          f"({m['grayordinate_gflops']:.1f} GFLOP/s); ratio {encode / gemm_g:.2f}")
    print(f"  significant pairs on noise: {m['significant_pairs']} of {N * V} "
          f"(p threshold {m['threshold']:.2e}); calibration {m['calibration']:.3f}")


if __name__ == "__main__":
    main()
