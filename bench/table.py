"""The rows of the benchmark table, the machine they ran on, and the JSON / CSV they go to.

A row is one comparison: this workflow's time beside its reference's, measured in the same
process, their ratio, and its target (met, missed, or not evaluated).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata

FIELDS = ["line", "ours", "ours_s", "reference", "reference_s", "ratio", "target", "met", "size", "note"]
MACHINE_FIELDS = ["mode", "date_utc", "host", "device", "cpu_count", "versions"]
LIBRARIES = ["vlmbrain", "numpy", "scipy", "scikit-learn", "torch", "nilearn", "himalaya", "snakemake"]


@dataclass
class Row:
    """One line of the table.

    Parameters
    ----------
    line : str
        Short name of the benchmark line.
    ours : str
        What of this workflow was timed.
    ours_s : float or None
        Its seconds (None when skipped).
    reference : str
        The reference timed beside it ('' when the line has none).
    reference_s : float or None
    target : str
        The target, in words (``ratio <= 2.5``, ``<= 60 s``).
    met : bool or None
        Whether the target is met; None when it was not evaluated (skipped, or no target).
    size : str
        The problem size measured.
    note : str
        Anything needed to read the numbers (extrapolation, skip reason, peak memory).
    extra : dict
        Further numbers, kept in the JSON only.
    """

    line: str
    ours: str
    ours_s: float | None
    reference: str = ""
    reference_s: float | None = None
    target: str = ""
    met: bool | None = None
    size: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self):
        """``ours_s / reference_s`` (None when either is missing)."""
        if self.ours_s is None or not self.reference_s:
            return None
        return self.ours_s / self.reference_s


def skipped(line, ours, reason, target=""):
    """A row that was not measured, with the reason."""
    return Row(line, ours, None, target=target, note=f"skipped: {reason}")


def machine():
    """The machine, device and library versions the table was measured with."""
    try:
        import torch

        cuda = torch.cuda.is_available()
        device = torch.cuda.get_device_name(0) if cuda else "cpu"
        threads = torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a dependency
        device, threads = "cpu", None
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": os.getloadavg(),
        "device": device,
        "torch_threads": threads,
        "python": platform.python_version(),
        "versions": versions,
    }


def _fmt(x, digits=3):
    if x is None:
        return ""
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"


def _record(row):
    out = {k: v for k, v in asdict(row).items() if k != "extra"}
    out["ratio"] = row.ratio
    return out


def text_table(rows):
    """The rows as a plain-text table (one line per row, notes below)."""
    cols = ["line", "ours (s)", "reference (s)", "ratio", "target", "met"]
    cells = []
    for r in rows:
        met = {True: "met", False: "MISSED", None: "-"}[r.met]
        cells.append([r.line, _fmt(r.ours_s), _fmt(r.reference_s), _fmt(r.ratio), r.target, met])
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.append("")
    for r in rows:
        what = f"{r.ours}" + (f" vs {r.reference}" if r.reference else "")
        lines.append(f"{r.line}: {what}; {r.size}" + (f"; {r.note}" if r.note else ""))
    return "\n".join(lines)


def write(rows, info, out_dir, mode):
    """Write ``bench.json`` (machine, mode, rows with their extra numbers) and ``bench.csv``.

    Returns
    -------
    tuple of Path
        The JSON and CSV paths.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    js, cs = out_dir / "bench.json", out_dir / "bench.csv"
    records = [{**_record(r), "extra": r.extra} for r in rows]
    js.write_text(json.dumps({"mode": mode, "machine": info, "rows": records}, indent=1, default=float))
    versions = " ".join(f"{k}={v}" for k, v in info["versions"].items())
    context = {**{k: info.get(k) for k in MACHINE_FIELDS}, "mode": mode, "versions": versions}
    with cs.open("w", newline="") as f:
        w = csv.DictWriter(f, FIELDS + MACHINE_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({**_record(r), **context})
    return js, cs


def main_of(rows, doc):
    """Command line of one stage's benchmark: ``--fast``, then print its table rows."""
    import argparse

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--fast", action="store_true")
    for row in rows(ap.parse_args().fast):
        print(row)
