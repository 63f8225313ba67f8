# Shared by every stage: configuration checks, identifiers and input functions.
import os
import sys
from pathlib import Path

_SRC = str(Path(workflow.basedir) / "src")
if _SRC not in sys.path:
    sys.path.insert(0, _SRC)
# Jobs (local, in conda environments or on a cluster) import the library from this
# checkout: it is prepended to the PYTHONPATH that jobs inherit.
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (_SRC, os.getenv("PYTHONPATH", "")) if p)
)

from vlmbrain import config as vbconfig

vbconfig.check_config(
    config, schema=Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
)

RES = config["results"]
SUBJECTS = vbconfig.subjects(config)
RUNS = vbconfig.runs(config)
MODELS = list(config["models"])
SIMULATION = config["data"]["source"] == "simulation"
STIMULUS_TABLES = expand(f"{RES}/stimuli/{{run}}.tsv", run=RUNS)
NETWORKS_NPZ = f"{RES}/networks/networks.npz"
NETWORKS_DLABEL = f"{RES}/networks/networks.dlabel.nii"


wildcard_constraints:
    subject="[^/]+",
    model="|".join(MODELS),
    run="|".join(RUNS),


def bold_inputs(wildcards):
    """The BOLD files of one subject, one per run, in the order of ``data.runs``."""
    return [
        config["data"]["bold"].format(subject=wildcards.subject, run=run)
        for run in RUNS
    ]


def activations_dir(model):
    """The activations folder of one model."""
    return f"{RES}/activations/{model}"


def frame_inputs(wildcards):
    """Videos (or frame folders) of every run."""
    key = "frames_dir" if config["data"].get("frames_dir") else "video"
    return vbconfig.run_paths(config, key)


def bold_mask():
    """The NIfTI brain mask as an input, when the data are NIfTI."""
    return [config["data"]["mask"]] if config["data"].get("mask") else []
