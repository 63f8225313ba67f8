# Every check of the inputs that headers and config allow, when the workflow starts: after
# the DAG is built and before the first job, on every run with jobs to do (dry runs and
# runs with nothing to do skip it). All faults are reported together, each naming the
# file or key, the fault and the fix (vlmbrain.validate); no job starts while one remains.
# What the workflow writes itself (the simulation's movie and BOLD, generated captions)
# is checked by the job that reads it, through the same functions.


def validate_inputs_at_start():
    """Run :func:`vlmbrain.validate.validate_inputs` on this config's inputs."""
    from vlmbrain.validate import validate_inputs

    generated = vbconfig.generated_inputs(config)
    data = config["data"]
    frames_key = "frames_dir" if data.get("frames_dir") else "video"
    written = frames_key in generated
    validate_inputs(
        runs=RUNS,
        tr=data["tr"],
        frames=[] if written else vbconfig.run_paths(config, frames_key),
        frames_dir=bool(data.get("frames_dir")),
        segments=None if "segments" in generated else data["segments"],
        captions=(
            []
            if CAPTIONING or "captions" in generated
            else vbconfig.run_paths(config, "captions")
        ),
        caption_overlap=data["caption_overlap"],
        bold=[] if "bold" in generated else all_bold_inputs(),
        subjects=[] if "bold" in generated else SUBJECTS,
        mask=data.get("mask"),
        models=config["models"],
        couplings=config["simulation"]["couplings"] if SIMULATION else [],
        networks=list(config["networks"]["mapping"]),
        cache_dir=config["extraction"]["cache_dir"],
        offline=config["extraction"]["offline"],
        log_file=log_path("validate_inputs"),
    )


onstart:
    validate_inputs_at_start()
