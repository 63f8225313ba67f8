# Optional: captions tables generated from the frames with an image-captioning model.


if config["captioning"]["enabled"]:
    if SIMULATION:
        raise ValueError(
            "captioning.enabled: the simulation writes its own captions; enable captioning "
            "only with real or custom data (data.source: hcp7t or custom)."
        )
    if "{run}" not in str(config["data"]["captions"]):
        raise ValueError(
            "captioning.enabled: data.captions must be a path template with {run} (where "
            "the generated captions tables go), not a mapping."
        )
    if not config["captioning"].get("model"):
        raise ValueError(
            "captioning.enabled is true but captioning.model is empty: name a transformers "
            "image-captioning model (hub id or local folder)."
        )

    rule captions:
        """Caption one frame every captioning.interval seconds; write the run's captions table."""
        input:
            frames=lambda wildcards: vbconfig.run_path(
                config,
                "frames_dir" if config["data"].get("frames_dir") else "video",
                wildcards.run,
            ),
        output:
            captions=config["data"]["captions"],
        log:
            log_path("captions/{run}"),
        benchmark:
            benchmark_path("captions/{run}")
        conda:
            "../../envs/models.yaml"
        threads: 2
        resources:
            mem_mb=8000,
            runtime=120,
        params:
            model=config["captioning"]["model"],
            interval=config["captioning"]["interval"],
            max_new_tokens=config["captioning"]["max_new_tokens"],
            batch_size=config["captioning"]["batch_size"],
            tr=config["data"]["tr"],
            frames_dir=bool(config["data"].get("frames_dir")),
            cache_dir=config["extraction"]["cache_dir"],
            offline=config["extraction"]["offline"],
        script:
            "../../scripts/captions.py"
