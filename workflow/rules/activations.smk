# Models and artificial-neuron extraction: one job per model.
from vlmbrain.models.files import local_weight_files


rule activations:
    """AN time series of every stream and layer of one model for every TR of every run."""
    input:
        tables=paths("stimulus_table", run=RUNS),
        frames=frame_inputs,
        weights=lambda wildcards: local_weight_files(config["models"][wildcards.model]),
    output:
        activations=directory(path("activations")),
    log:
        log_path("activations/{model}"),
    benchmark:
        benchmark_path("activations/{model}")
    conda:
        "../../envs/models.yaml"
    threads: per_model_threads()
    resources:
        mem_mb=8000,
        runtime=180,
        gpu=EXTRACTION_GPUS,
    params:
        model_config=lambda wildcards: config["models"][wildcards.model],
        tensor=config["an"]["tensor"],
        pooling=config["an"]["pooling"],
        fusion_attention=config["an"]["fusion_attention"],
        frames_per_tr=config["an"]["frames_per_tr"],
        device=config["extraction"]["device"],
        batch_size=config["extraction"]["batch_size"],
        seed=config["extraction"]["seed"],
        cache_dir=config["extraction"]["cache_dir"],
        offline=config["extraction"]["offline"],
    script:
        "../../scripts/activations.py"
