# Every check of the inputs that headers and config allow, in one cheap job that every job
# building a model or reading BOLD depends on (validated() in common.smk): all faults
# are reported together, before hours of extraction.


rule validate_inputs:
    """Check the stimuli (segments, captions, each video's header and the frames its last
    movie TR needs), every BOLD run's header (grayordinate space, TR, number of TRs against
    its stimulus table), each model's architecture, override names and weights (METER
    checkpoint keys and shapes) and the couplings' models, streams and layers; one message
    per fault naming the file, the fault and the fix. No model is built, no BOLD read.
    """
    input:
        frames=frame_inputs,
        captions=[] if CAPTIONING else vbconfig.run_paths(config, "captions"),
        segments=config["data"]["segments"],
        # the simulation's BOLD is written after extraction and checked when read
        bold=[] if SIMULATION else all_bold_inputs(),
        mask=bold_mask(),
        weights=[
            f for cfg in config["models"].values() for f in local_weight_files(cfg)
        ],
    output:
        report=path("validation"),
    log:
        log_path("validate_inputs"),
    benchmark:
        benchmark_path("validate_inputs")
    priority: 100
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        runs=RUNS,
        subjects=[] if SIMULATION else SUBJECTS,
        tr=config["data"]["tr"],
        frames_dir=bool(config["data"].get("frames_dir")),
        caption_overlap=config["data"]["caption_overlap"],
        models=config["models"],
        couplings=config["simulation"]["couplings"] if SIMULATION else [],
        networks=list(config["networks"]["mapping"]),
        cache_dir=config["extraction"]["cache_dir"],
        offline=config["extraction"]["offline"],
    script:
        "../../scripts/validate_inputs.py"
