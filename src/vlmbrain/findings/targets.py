"""Input helpers of the findings rules (kept out of the rule file)."""

from __future__ import annotations


def per_model_outputs(rules, prefix, models):
    """Outputs, for the given models, of every rule that writes under ``{prefix}/{model}``.

    The group and atoms stages are one job per model; depending on all their declared
    outputs (files or folders) keeps the findings independent of their layout.

    Parameters
    ----------
    rules : iterable of snakemake rules
        ``workflow.rules``.
    prefix : str
        ``results/group`` or ``results/atoms``.
    models : list of str

    Returns
    -------
    list of str
        The outputs with ``{model}`` filled in; ``{prefix}/{model}`` (the folder) when no
        rule declares any.
    """
    start = f"{prefix}/{{model}}"
    patterns = sorted(
        {str(f) for rule in rules for f in rule.output if str(f).startswith(start)}
    ) or [start]
    return [p.replace("{model}", m) for m in models for p in patterns]
