"""Helpers for ``workflow/rules/neurons.smk`` (imported by the workflow, not by jobs)."""

from __future__ import annotations

from snakemake.io import expand, strip_wildcard_constraints

__all__ = ["model_outputs"]


def model_outputs(workflow, prefix, model):
    """Outputs of the rules that write under ``{prefix}/{model}`` (atoms, regressors).

    ``model`` is one model key or a list of them.

    Depending on whatever files or folders those one-job-per-model rules declare keeps the
    neurons stage independent of their layout; falls back to the folder itself.
    """
    start = f"{prefix}/{{model}}"
    patterns = sorted(
        {
            pattern
            for rule in workflow.rules
            for pattern in map(strip_wildcard_constraints, map(str, rule.output))
            if pattern.startswith(start)
        }
    )
    return expand(patterns or [start], model=model)
