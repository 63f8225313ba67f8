# Specific attribution: variance partitioning with banded ridge regression, held out.
# Feature spaces once for all subjects; one job per subject x model; group maps per model;
# one table (FDR over all cells), the architecture on unique maps and a figure per model.
ATTRIBUTION = config["attribution"]
ATTRIBUTION_DIR = f"{RES}/attribution"
ATTRIBUTION_FEATURES = f"{ATTRIBUTION_DIR}/features.npz"
ATTRIBUTION_TABLE = f"{RES}/tables/attribution.tsv"
ATTRIBUTION_ARCHITECTURE = f"{RES}/tables/architecture_unique.tsv"
ATTRIBUTION_FIGURES = expand(f"{RES}/figures/attribution_{{model}}.png", model=MODELS)
ATTRIBUTION_MAPS = expand(
    f"{ATTRIBUTION_DIR}/maps/{{model}}_unique.dscalar.nii", model=MODELS
)
ATTRIBUTION_TARGETS = (
    [ATTRIBUTION_TABLE, ATTRIBUTION_ARCHITECTURE]
    + ATTRIBUTION_FIGURES
    + ATTRIBUTION_MAPS
    if ATTRIBUTION["enabled"]
    else []
)


if ATTRIBUTION["enabled"]:

    rule attribution_features:
        """Leading components of every layer and the modality references (all subjects)."""
        input:
            regressors=expand(f"{RES}/regressors/{{model}}", model=MODELS),
        output:
            features=ATTRIBUTION_FEATURES,
            table=f"{ATTRIBUTION_DIR}/features.tsv",
        log:
            f"{RES}/logs/attribution/features.log",
        benchmark:
            f"{RES}/benchmarks/attribution/features.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        params:
            models=MODELS,
            n_components=ATTRIBUTION["n_components"],
            reference_per_layer=ATTRIBUTION["reference_per_layer"],
            reference_components=ATTRIBUTION["reference_components"],
            references=ATTRIBUTION["references"],
        script:
            "../../scripts/attribution_features.py"

    rule attribution_subject:
        """Unique and shared held-out R2 of every layer of one model in one subject."""
        input:
            bold=bold_inputs,
            mask=bold_mask(),
            tables=STIMULUS_TABLES,
            features=ATTRIBUTION_FEATURES,
        output:
            f"{ATTRIBUTION_DIR}/sub-{{subject}}/{{model}}.npz",
        log:
            f"{RES}/logs/attribution/sub-{{subject}}/{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/attribution/sub-{{subject}}/{{model}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 2
        resources:
            mem_mb=16000,
            runtime=240,
        params:
            tr=config["data"]["tr"],
            drop_rest=config["temporal"]["drop_rest"],
            mask=config["data"]["mask"],
            against=ATTRIBUTION["against"],
            alphas=ATTRIBUTION["alphas"],
            n_ratios=ATTRIBUTION["n_ratios"],
            log10_span=ATTRIBUTION["log10_span"],
            chunk_size=ATTRIBUTION["chunk_size"],
            backend=ATTRIBUTION["backend"],
            device=ATTRIBUTION["device"],
        script:
            "../../scripts/attribution_subject.py"

    rule attribution_group:
        """Sign-flip group test of unique R2, network cells and a dscalar of one model."""
        input:
            subjects=expand(
                f"{ATTRIBUTION_DIR}/sub-{{subject}}/{{{{model}}}}.npz", subject=SUBJECTS
            ),
            networks=NETWORKS_NPZ,
            geometry=lambda wc: config["data"]["bold"].format(
                subject=SUBJECTS[0], run=RUNS[0]
            ),
        output:
            maps=f"{ATTRIBUTION_DIR}/group/{{model}}.npz",
            cells=f"{ATTRIBUTION_DIR}/group/{{model}}_cells.tsv",
            dscalar=f"{ATTRIBUTION_DIR}/maps/{{model}}_unique.dscalar.nii",
        log:
            f"{RES}/logs/attribution/group_{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/attribution/group_{{model}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=60,
        params:
            against=ATTRIBUTION["against"],
            mask=config["data"]["mask"],
            q=ATTRIBUTION["fdr_q"],
            n_flips=ATTRIBUTION["n_flips"],
            seed=ATTRIBUTION["seed"],
        script:
            "../../scripts/attribution_group.py"

    rule attribution_tables:
        """attribution.tsv (FDR over all cells) and the architecture on unique maps."""
        input:
            cells=expand(f"{ATTRIBUTION_DIR}/group/{{model}}_cells.tsv", model=MODELS),
        output:
            table=report(
                ATTRIBUTION_TABLE,
                caption="../report/attribution_table.rst",
                category=FINDINGS_CATEGORIES["attribution"],
                labels={"item": "attribution table (TSV)"},
            ),
            architecture=report(
                ATTRIBUTION_ARCHITECTURE,
                caption="../report/attribution_architecture.rst",
                category=FINDINGS_CATEGORIES["attribution"],
                labels={"item": "architecture on unique maps (TSV)"},
            ),
        log:
            f"{RES}/logs/attribution/tables.log",
        benchmark:
            f"{RES}/benchmarks/attribution/tables.tsv"
        conda:
            "../../envs/report.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=15,
        params:
            models=MODELS,
            q=ATTRIBUTION["enrichment_q"],
        script:
            "../../scripts/attribution_tables.py"

    rule attribution_figure:
        """Unique and shared R2 per network across layers of one model."""
        input:
            table=ATTRIBUTION_TABLE,
        output:
            figure=report(
                f"{RES}/figures/attribution_{{model}}.png",
                caption="../report/attribution_figure.rst",
                category=FINDINGS_CATEGORIES["attribution"],
                labels={"model": "{model}", "item": "unique and shared R2"},
            ),
        log:
            f"{RES}/logs/attribution/figure_{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/attribution/figure_{{model}}.tsv"
        conda:
            "../../envs/report.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        script:
            "../../scripts/attribution_figure.py"
