# Voxel-wise models (METHOD 5): AR(1) GLM and leave-one-run-out ridge, per subject x model.


rule encoding:
    """Beta and t maps per atom and held-out prediction r of one subject and model."""
    input:
        bold=bold_inputs,
        mask=bold_mask(),
        tables=STIMULUS_TABLES,
        atoms=f"{RES}/atoms/{{model}}",
    output:
        directory(f"{RES}/encoding/sub-{{subject}}/{{model}}"),
    log:
        f"{RES}/logs/encoding/sub-{{subject}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/encoding/sub-{{subject}}/{{model}}.tsv"
    conda:
        "../../envs/encoding.yaml"
    threads: 2
    resources:
        mem_mb=16000,
        runtime=240,
    params:
        tr=config["data"]["tr"],
        temporal=config["temporal"],
        encoding=config["encoding"],
        mask=config["data"]["mask"],
    script:
        "../../scripts/encoding.py"


rule noise_ceiling:
    """Noise ceiling of one subject from the validation clip repeated in every run."""
    input:
        bold=bold_inputs,
        mask=bold_mask(),
        tables=STIMULUS_TABLES,
    output:
        f"{RES}/encoding/sub-{{subject}}/noise_ceiling.npy",
    log:
        f"{RES}/logs/encoding/sub-{{subject}}/noise_ceiling.log",
    benchmark:
        f"{RES}/benchmarks/encoding/sub-{{subject}}/noise_ceiling.tsv"
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    params:
        tr=config["data"]["tr"],
        temporal=config["temporal"],
        mask=config["data"]["mask"],
    script:
        "../../scripts/noise_ceiling.py"
