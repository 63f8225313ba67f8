# Temporal model and sparse dictionary learning: one job per model (METHOD 3-4).


rule atoms:
    """HRF-convolved regressors and SDL atoms of every stream and layer of one model."""
    input:
        activations=lambda wc: activations_dir(wc.model),
        tables=STIMULUS_TABLES,
    output:
        regressors=directory(f"{RES}/regressors/{{model}}"),
        atoms=directory(f"{RES}/atoms/{{model}}"),
    log:
        f"{RES}/logs/atoms/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/atoms/{{model}}.tsv"
    conda:
        "../../envs/encoding.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        tr=config["data"]["tr"],
        temporal=config["temporal"],
        sdl=config["sdl"],
    script:
        "../../scripts/atoms.py"
