# Voxel-wise models: AR(1) GLM and leave-one-run-out ridge, per subject x model.


rule encoding:
    """Beta and t maps per atom and held-out prediction r of one subject and model."""
    input:
        bold=bold_inputs,
        mask=bold_mask(),
        tables=paths("stimulus_table", run=RUNS),
        atoms=path("atoms"),
    output:
        encoding=directory(path("encoding")),
    log:
        log_path("encoding/sub-{subject}/{model}"),
    benchmark:
        benchmark_path("encoding/sub-{subject}/{model}")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=vbresources.mem_mb("encoding"),
        runtime=vbresources.runtime("encoding"),
        gpu=COMPUTE_GPUS,
    params:
        tr=config["data"]["tr"],
        drop_rest=config["temporal"]["drop_rest"],
        nonfinite=config["data"]["nonfinite"],
        chunk_size=config["encoding"]["chunk_size"],
        ar_bins=config["encoding"]["ar_bins"],
        ridge_alphas=config["encoding"]["ridge_alphas"],
        backend=config["compute"]["backend"],
        device=config["compute"]["device"],
    script:
        "../../scripts/encoding.py"


rule noise_ceiling:
    """Noise ceiling of one subject from the validation clip repeated in every run."""
    input:
        bold=bold_inputs,
        mask=bold_mask(),
        tables=paths("stimulus_table", run=RUNS),
    output:
        ceiling=path("noise_ceiling"),
    log:
        log_path("encoding/sub-{subject}/noise_ceiling"),
    benchmark:
        benchmark_path("encoding/sub-{subject}/noise_ceiling")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=vbresources.mem_mb("noise_ceiling"),
        runtime=vbresources.runtime("noise_ceiling"),
    params:
        tr=config["data"]["tr"],
        drop_rest=config["temporal"]["drop_rest"],
        nonfinite=config["data"]["nonfinite"],
    script:
        "../../scripts/noise_ceiling.py"
