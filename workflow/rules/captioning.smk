# Optional (captioning.enabled): each run's captions table generated from its frames with an
# image-captioning model; the stimulus tables then read these instead of data.captions
# (caption_inputs in common.smk; the config checks are vlmbrain.config.captioning_problems).


if CAPTIONING:

    rule captions:
        """Caption one frame every captioning.interval seconds; write the run's captions table."""
        input:
            frames=lambda wildcards: vbconfig.run_path(
                config,
                "frames_dir" if config["data"].get("frames_dir") else "video",
                wildcards.run,
            ),
        output:
            captions=path("captions"),
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
            gpu=EXTRACTION_GPUS,
        params:
            model=config["captioning"]["model"],
            interval=config["captioning"]["interval"],
            max_new_tokens=config["captioning"]["max_new_tokens"],
            batch_size=config["captioning"]["batch_size"],
            tr=config["data"]["tr"],
            frames_dir=bool(config["data"].get("frames_dir")),
            device=config["extraction"]["device"],
            cache_dir=config["extraction"]["cache_dir"],
            offline=config["extraction"]["offline"],
        script:
            "../../scripts/captions.py"
