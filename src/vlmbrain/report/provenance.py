"""Provenance, recovery and findings-summary pages of the report."""

from __future__ import annotations

import html

import pandas as pd
import yaml

from vlmbrain.models.files import load_activations
from vlmbrain.findings.recovery import recovery_summary
from vlmbrain.io import read_tsv
from vlmbrain.report.html import html_table, write_page


def weights_description(manifest):
    """Human-readable weights of a model from its activations manifest.

    Returns
    -------
    str
        ``"random weights (seed N)"``, ``"pretrained tag X"``, ``"hub id X"`` or
        ``"checkpoint PATH (sha256 ...)"``.
    """
    weights = manifest.get("weights") or {}
    kind = weights.get("kind")
    if manifest.get("random_weights") or kind == "random":
        seed = weights.get("seed")
        return "random weights" + (f" (seed {seed})" if seed is not None else "")
    if kind == "pretrained":
        return f"pretrained tag {weights.get('tag')}"
    if kind == "hub":
        return f"hub id {weights.get('tag') or weights.get('path')}"
    if kind == "path":
        sha = weights.get("sha256")
        return f"checkpoint {weights.get('path')}" + (f" (sha256 {sha[:12]}...)" if sha else "")
    return f"unrecorded ({weights})"


def models_table(manifests):
    """One row per model: family, architecture, weights and streams with their layers."""
    rows = []
    for model, m in manifests.items():
        streams = ", ".join(
            f"{s} ({info['n_layers']} layers, {info.get('n_heads', '?')}x"
            f"{info.get('head_dim', '?')} ANs/layer)"
            for s, info in m["streams"].items()
        )
        an = m.get("an") or m.get("an_settings") or {}
        rows.append(
            {
                "model": model,
                "family": m.get("family", ""),
                "architecture": m.get("architecture", ""),
                "weights": weights_description(m),
                "streams": streams,
                "AN settings": ", ".join(f"{k}={v}" for k, v in sorted(an.items()))
                if isinstance(an, dict)
                else str(an),
            }
        )
    return pd.DataFrame(rows)


def write_provenance(path, activation_dirs, config, subjects, runs, ground_truth_tsv=None):
    """Write the provenance page: models and weights, data source, the full config.

    Parameters
    ----------
    path : str or Path
        ``results/report/provenance.html``.
    activation_dirs : dict
        ``{model: results/activations/{model}}``.
    config : dict
        The workflow configuration.
    subjects, runs : list of str
        The subjects and runs analysed (as resolved by the workflow).
    ground_truth_tsv : str or Path, optional
        Planted couplings (simulation).
    """
    manifests = {model: load_activations(d) for model, d in activation_dirs.items()}
    data = config.get("data", {})
    simulated = data.get("source") == "simulation"
    any_random = any(
        m.get("random_weights") or (m.get("weights") or {}).get("kind") == "random"
        for m in manifests.values()
    )
    source = (
        "<p><b>Simulated data</b>: a synthetic movie and planted BOLD in the real "
        "91,282-grayordinate space. Nothing here is a result about "
        "the human brain.</p>"
        if simulated
        else f"<p><b>Real data</b> ({html.escape(str(data.get('source')))}).</p>"
    )
    captioning = config.get("captioning") or {}
    if captioning.get("enabled"):
        source += (
            "<p>Captions <b>generated from the frames</b> by "
            f"<code>{html.escape(str(captioning.get('model')))}</code> (one every "
            f"{captioning.get('interval')} s, greedy decoding; "
            "<code>results/stimuli/captions/</code>).</p>"
        )
    elif not simulated:
        source += f"<p>Captions from <code>{html.escape(str(data.get('captions')))}</code>.</p>"
    source += (
        f"<p>Runs: {html.escape(', '.join(map(str, runs)))}; {len(subjects)} subjects: "
        f"{html.escape(', '.join(map(str, subjects)))}.</p>"
    )
    if any_random:
        source += (
            "<p class=\"note\">At least one model has <b>random weights</b>: its artificial "
            "neurons come from the architecture only, not from training.</p>"
        )
    sections = [
        ("Data", source),
        ("Models and weights", html_table(models_table(manifests))),
    ]
    if ground_truth_tsv:
        gt = read_tsv(ground_truth_tsv)
        gt = gt.drop(columns=[c for c in ("ans",) if c in gt.columns])
        sections.append(("Planted couplings (ground truth)", html_table(gt)))
    sections.append(
        (
            "Configuration",
            "<pre>" + html.escape(yaml.safe_dump(config, sort_keys=False)) + "</pre>",
        )
    )
    write_page(path, "Provenance", sections)


def write_recovery_page(path, recovery, unique=None):
    """Write the recovery page: summary counts, planted rows and detected rows.

    Parameters
    ----------
    path : str or Path
        ``results/report/recovery.html``.
    recovery : DataFrame
        ``results/simulation/recovery.tsv``.
    unique : dict, optional
        The attribution's counts (:func:`vlmbrain.findings.recovery.unique_summary`).
    """
    summary = recovery_summary(recovery)
    shown = recovery[recovery["planted"] | recovery["detected"]]
    sections = [
        (
            "Summary",
            html_table(pd.DataFrame([summary]))
            + "<p class=\"note\">hit: planted and found; miss: planted, not found; false "
            "positive: found where nothing was planted. A cell is found when some atom of "
            "the layer drives the network with that sign (FDR over atoms x networks).</p>",
        ),
    ]
    if unique is not None:
        sections.append((
            "Specific attribution (unique variance)",
            html_table(pd.DataFrame([unique]))
            + "<p class=\"note\">At the planted layers of image and text streams: planted "
            "rows found with significant unique variance against the other modality's "
            "reference (<code>unique_hits</code> of <code>unique_checked_planted</code>), and "
            "rows whose network is planted only from the other modality or not at all that "
            "are nevertheless <code>detected_unique</code> (<code>unique_false</code> of "
            "<code>unique_checked_false</code>); over the whole run, the (model, stream, layer, "
            "network) cells with a <code>detected_unique</code> row (<code>unique_cells_detected"
            "</code> of <code>unique_cells</code>). <code>unique_share</code> in the table below "
            "is the share of a planted signal that its stream's references do not explain: "
            "the most that unique variance can find of it.</p>",
        ))
    sections.append(("Planted and detected cells", html_table(shown, row_class="outcome")))
    write_page(path, "Simulation: planted versus found", sections)


def noise_ceiling_section(prediction, per_subject, note=""):
    """HTML of the noise ceiling: per network (the group ceiling the prediction table
    divides by) and per subject, or why there is none.

    Parameters
    ----------
    prediction : DataFrame
        ``prediction.tsv`` (``network``, ``noise_ceiling``, ``ceiling_note``).
    per_subject : DataFrame
        ``noise_ceiling.tsv``.
    note : str
        Why the group ceiling is NaN, or ``""``.
    """
    explain = (
        "<p class=\"note\">The noise ceiling is the held-out r a perfect model of the "
        "stimulus-driven signal would reach on one run: the square root of the mean "
        "correlation between the repeats of the validation clip shown in every run "
        "(averaged over a network signed, so that grayordinates without a reliable response "
        "count as about 0). <code>r_fraction</code> in the prediction table is the network's "
        "mean held-out r divided by its ceiling, where the ceiling is above 0 across "
        "subjects; above 1, the clip underestimates the runs' reliability.</p>"
    )
    per_subject = per_subject.assign(note=per_subject["note"].astype(object).fillna(""))
    if note:
        head = (
            "<p><b>No noise ceiling</b>: " + html.escape(note) + ". The prediction "
            "table's <code>noise_ceiling</code> and <code>r_fraction</code> are empty; read "
            "<code>mean_r</code> as raw r.</p>"
        )
        return head + explain + html_table(per_subject)
    groups = prediction.drop_duplicates("network")[["network", "noise_ceiling", "ceiling_note"]]
    groups = groups.assign(ceiling_note=groups["ceiling_note"].astype(object).fillna(""))
    return (
        explain
        + "<p>Group mean per network:</p>"
        + html_table(groups)
        + "<p>Per subject:</p>"
        + html_table(per_subject)
    )


def write_findings_page(path, tables, ceiling_note=""):
    """Write a page with the summary tables of the four findings and the noise ceiling.

    Parameters
    ----------
    path : str or Path
    tables : mapping
        ``prediction, polarity_trend, architecture, noise_ceiling`` DataFrames.
    ceiling_note : str
        Why there is no noise ceiling, or ``""``.
    """
    pred = tables["prediction"]
    driven = pred[pred["n_driving_atoms"] > 0]
    sections = [
        (
            "Noise ceiling (finding 1)",
            noise_ceiling_section(pred, tables["noise_ceiling"], ceiling_note),
        ),
        ("Architecture (per model and stream)", html_table(tables["architecture"])),
        ("Polarity trends (per model, stream and network)", html_table(tables["polarity_trend"])),
        (
            "Layers and networks with driving atoms",
            html_table(driven) if len(driven) else "<p>No atom drives any network.</p>",
        ),
    ]
    write_page(path, "Findings: summary tables", sections)
