# Stimuli: the synthetic movie (simulation only) and one stimulus table per run.


if SIMULATION:

    rule synthetic_movie:
        """Write the simulation's movie: a video and a captions table per run, and the clip
        segments, at the paths the data config reads (as real data would be)."""
        output:
            videos=vbconfig.run_paths(config, "video"),
            captions=vbconfig.run_paths(config, "captions"),
            segments=config["data"]["segments"],
        log:
            log_path("synthetic_movie"),
        benchmark:
            benchmark_path("synthetic_movie")
        conda:
            "../../envs/data.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            movie={k: config["simulation"][k] for k in vbconfig.MOVIE_KEYS},
            tr=config["data"]["tr"],
            video_template=lambda wildcards: config["data"]["video"],
            captions_template=lambda wildcards: config["data"]["captions"],
        script:
            "../../scripts/synthetic_movie.py"


rule stimulus_tables:
    """One table per run: for each TR its onset, condition (movie or rest), clip, frame
    (video and time) and caption."""
    input:
        frames=frame_inputs,
        captions=caption_inputs(),
        segments=config["data"]["segments"],
    output:
        tables=paths("stimulus_table", run=RUNS),
    log:
        log_path("stimulus_tables"),
    benchmark:
        benchmark_path("stimulus_tables")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=RUNS,
        tr=config["data"]["tr"],
        frames_dir=bool(config["data"].get("frames_dir")),
        caption_overlap=config["data"]["caption_overlap"],
    script:
        "../../scripts/stimulus_tables.py"
