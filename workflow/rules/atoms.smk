# Temporal model and sparse dictionary learning: one job per model.


rule atoms:
    """HRF-convolved regressors and SDL atoms of every stream and layer of one model."""
    input:
        activations=path("activations"),
        tables=paths("stimulus_table", run=RUNS),
    output:
        regressors=directory(path("regressors")),
        atoms=directory(path("atoms")),
    log:
        log_path("atoms/{model}"),
    benchmark:
        benchmark_path("atoms/{model}")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        tr=config["data"]["tr"],
        hrf=config["temporal"]["hrf"],
        drop_rest=config["temporal"]["drop_rest"],
        n_atoms=config["sdl"]["n_atoms"],
        alpha=config["sdl"]["alpha"],
        max_iter=config["sdl"]["max_iter"],
        batch_size=config["sdl"]["batch_size"],
        seed=config["sdl"]["seed"],
    script:
        "../../scripts/atoms.py"
