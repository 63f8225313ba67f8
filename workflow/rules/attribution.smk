# Specific attribution: variance partitioning with banded ridge regression, held out.
# Feature spaces once for all subjects; one job per subject x model; group maps per model;
# one table (FDR over all cells) with the architecture on unique maps; a figure per model.


rule attribution_features:
    """Leading components of every layer and the modality references (all subjects)."""
    input:
        regressors=paths("regressors", model=MODELS),
    output:
        features=path("attribution_features"),
        table=path("attribution_features_table"),
    log:
        log_path("attribution/features"),
    benchmark:
        benchmark_path("attribution/features")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        models=MODELS,
        n_components=config["attribution"]["n_components"],
        reference_per_layer=config["attribution"]["reference_per_layer"],
        reference_components=config["attribution"]["reference_components"],
        references=config["attribution"]["references"],
    script:
        "../../scripts/attribution_features.py"


rule attribution_subject:
    """Unique and shared held-out R2 of every layer of one model in one subject."""
    input:
        bold=bold_inputs,
        mask=bold_mask(),
        tables=paths("stimulus_table", run=RUNS),
        features=path("attribution_features"),
    output:
        partition=path("attribution_subject"),
    log:
        log_path("attribution/sub-{subject}/{model}"),
    benchmark:
        benchmark_path("attribution/sub-{subject}/{model}")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=vbresources.mem_mb("attribution_subject"),
        runtime=vbresources.runtime("attribution_subject"),
        gpu=COMPUTE_GPUS,
    params:
        tr=config["data"]["tr"],
        drop_rest=config["temporal"]["drop_rest"],
        nonfinite=config["data"]["nonfinite"],
        against=config["attribution"]["against"],
        alphas=config["attribution"]["alphas"],
        n_ratios=config["attribution"]["n_ratios"],
        log10_span=config["attribution"]["log10_span"],
        chunk_size=config["attribution"]["chunk_size"],
        backend=config["compute"]["backend"],
        device=config["compute"]["device"],
    script:
        "../../scripts/attribution_subject.py"


rule attribution_group:
    """Sign-flip group test of unique R2, network cells and a dscalar of one model."""
    input:
        subjects=paths("attribution_subject", subject=SUBJECTS),
        networks=path("networks_npz"),
        geometry=lambda wc: config["data"]["bold"].format(
            subject=SUBJECTS[0], run=RUNS[0]
        ),
        mask=bold_mask(),
    output:
        maps=path("attribution_group"),
        cells=path("attribution_cells"),
        dscalar=path("attribution_map"),
    log:
        log_path("attribution/group_{model}"),
    benchmark:
        benchmark_path("attribution/group_{model}")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=vbresources.mem_mb("attribution_group"),
        runtime=vbresources.runtime("attribution_group"),
    params:
        against=config["attribution"]["against"],
        q=config["attribution"]["fdr_q"],
        n_flips=config["attribution"]["n_flips"],
        seed=config["attribution"]["seed"],
        test_scale=config["attribution"]["test_scale"],
        moderated=config["attribution"]["moderated"],
    script:
        "../../scripts/attribution_group.py"


rule attribution_tables:
    """attribution.tsv (FDR over all cells) and the architecture on unique maps."""
    input:
        cells=paths("attribution_cells", model=MODELS),
    output:
        table=report(
            path("table", table="attribution"),
            caption="../report/attribution_table.rst",
            category=REPORT_CATEGORIES["attribution"],
            labels={"item": "attribution table (TSV)"},
        ),
        architecture=report(
            path("table", table="architecture_unique"),
            caption="../report/attribution_architecture.rst",
            category=REPORT_CATEGORIES["attribution"],
            labels={"item": "architecture on unique maps (TSV)"},
        ),
    log:
        log_path("attribution/tables"),
    benchmark:
        benchmark_path("attribution/tables")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        q=config["attribution"]["enrichment_q"],
    script:
        "../../scripts/attribution_tables.py"


rule attribution_figure:
    """Unique and shared R2 per network across layers of one model."""
    input:
        table=path("table", table="attribution"),
    output:
        figure=report(
            path("figure", figure="attribution_{model}"),
            caption="../report/attribution_figure.rst",
            category=REPORT_CATEGORIES["attribution"],
            labels={"model": "{model}", "item": "unique and shared R2"},
        ),
    log:
        log_path("attribution/figure_{model}"),
    benchmark:
        benchmark_path("attribution/figure_{model}")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/attribution_figure.py"
