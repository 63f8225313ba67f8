"""Leave-one-run-out ridge beside himalaya's ``RidgeCV`` on the same data, at equal r.

Both fit the atoms to every grayordinate without intercept, choose each grayordinate's
alpha among the same candidates by an inner leave-one-run-out, and score the held-out run
by Pearson r; the r of the two agree (``max_abs_r_difference``), so the times compare like
for like. himalaya runs on ``himalaya_targets`` grayordinates and is extrapolated linearly.

    .venv/bin/python -m bench.encoding.ridge_bench [--fast]
"""

from __future__ import annotations

import time

import numpy as np

from bench.encoding.glm_bench import ALPHAS, FAST, HCP, simulated_bold
from vlmbrain.encoding.ridge import ridge_loro


def himalaya_loro(X, Y, runs, alphas):
    """Held-out Pearson r per grayordinate of himalaya's ``RidgeCV``, leave one run out."""
    from himalaya.ridge import RidgeCV

    r = []
    for held in np.unique(runs):
        train, test = runs != held, runs == held
        inner_runs = runs[train]
        cv = [(np.flatnonzero(inner_runs != k), np.flatnonzero(inner_runs == k)) for k in np.unique(inner_runs)]
        model = RidgeCV(alphas=np.asarray(alphas, float), fit_intercept=False, cv=cv)
        model.fit(X[train], Y[train])
        P, Yt = model.predict(X[test]), Y[test]
        P = P - P.mean(0)
        Yt = Yt - Yt.mean(0)
        r.append((P * Yt).sum(0) / np.sqrt((P**2).sum(0) * (Yt**2).sum(0)))
    return np.mean(r, 0)


def measure(n_vox, trs, atoms, himalaya_targets=2000, n_runs=4, seed=0):
    """Seconds of :func:`ridge_loro` on all grayordinates and of himalaya (extrapolated).

    Returns
    -------
    dict
        ``ours_s``, ``himalaya_s`` (extrapolated), ``himalaya_targets``,
        ``max_abs_r_difference`` on the grayordinates both fitted, ``mean_r``.
    """
    D, Y = simulated_bold(n_vox, trs, atoms, seed)
    runs = np.repeat(np.arange(n_runs), int(np.ceil(trs / n_runs)))[:trs]
    for k in range(n_runs):  # z-scored per run, as the workflow's BOLD
        Y[runs == k] -= Y[runs == k].mean(0)
        Y[runs == k] /= Y[runs == k].std(0)
    t0 = time.perf_counter()
    ours = ridge_loro(D, Y, runs, ALPHAS)
    t_ours = time.perf_counter() - t0
    n = min(himalaya_targets, n_vox)
    t0 = time.perf_counter()
    theirs = himalaya_loro(D, Y[:, :n], runs, ALPHAS)
    t_him = (time.perf_counter() - t0) * n_vox / n
    return {
        "ours_s": t_ours, "himalaya_s": t_him, "himalaya_targets": n,
        "max_abs_r_difference": float(np.nanmax(np.abs(ours["r"][:n] - theirs))),
        "mean_r": float(np.nanmean(ours["r"])),
    }


def rows(fast):
    """The table's ridge line."""
    from bench.table import Row

    size = FAST if fast else HCP
    m = measure(**size, himalaya_targets=size["n_vox"] if fast else 4000)
    return [Row(
        "ridge_vs_himalaya", "leave-one-run-out ridge", m["ours_s"], "himalaya RidgeCV (same alphas and splits)",
        m["himalaya_s"], "ratio <= 1 at equal r", m["ours_s"] <= m["himalaya_s"] and m["max_abs_r_difference"] < 1e-3,
        f"{size['n_vox']:,} grayordinates x {size['trs']:,} TRs x {size['atoms']} atoms, 4 runs, {len(ALPHAS)} alphas",
        f"himalaya on {m['himalaya_targets']:,} grayordinates, extrapolated; max |r difference| "
        f"{m['max_abs_r_difference']:.1e}", m,
    )]


def main():
    from bench.table import main_of

    main_of(rows, __doc__)


if __name__ == "__main__":
    main()
