# Models and artificial-neuron extraction: one job per model (METHOD 2).
from vlmbrain.models.files import local_weight_files


rule activations:
    """AN time series of every stream and layer of one model for every TR of every run."""
    input:
        tables=STIMULUS_TABLES,
        frames=frame_inputs,
        weights=lambda wildcards: local_weight_files(config["models"][wildcards.model]),
    output:
        directory(activations_dir("{model}")),
    log:
        f"{RES}/logs/activations/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/activations/{{model}}.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=180,
    params:
        model=lambda wildcards: config["models"][wildcards.model],
        an=config["an"],
        extraction=config["extraction"],
    script:
        "../../scripts/extract_activations.py"
