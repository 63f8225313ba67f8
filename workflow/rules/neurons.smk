# Per-neuron encoders (issue 6): every artificial neuron (AN) of every layer against every
# parcel of every subject (AR(1) GLM t, group t, BH-FDR), optionally against every
# grayordinate of the cohort (circular-shift null), and the neuron catalogue.
# Library: vlmbrain.neurons. Files: docs/design.md and vlmbrain/neurons/jobs.py.
from vlmbrain.neurons.smk import model_outputs as neurons_model_outputs
from vlmbrain.report import html as neurons_report_html

NEURONS = config["neurons"]
NEURONS_DIR = f"{RES}/neurons"
NEURONS_GRAYORDINATE = NEURONS["enabled"] and NEURONS["grayordinate"]
NEURONS_PARCELLATION_INPUT = (
    []
    if NEURONS["parcellation"] == "cole_anticevic_parcels"
    else [NEURONS["parcellation"]]
)
NEURON_CATALOGUE = f"{RES}/tables/neurons.tsv"
NEURON_NETWORK_SUMMARY = f"{NEURONS_DIR}/network_summary.tsv"
NEURON_FIGURE = f"{RES}/figures/neurons_catalogue.png"
NEURON_HTML = f"{NEURONS_DIR}/catalogue.html"
NEURON_ENRICHMENT = f"{NEURONS_DIR}/planted_enrichment.tsv"
NEURONS_COHORT_BOLD = [
    [config["data"]["bold"].format(subject=s, run=r) for r in RUNS] for s in SUBJECTS
]
NEURON_TARGETS = (
    [NEURON_CATALOGUE, NEURON_NETWORK_SUMMARY, NEURON_FIGURE, NEURON_HTML]
    + ([NEURON_ENRICHMENT] if SIMULATION else [])
    if NEURONS["enabled"]
    else []
)


if NEURONS["enabled"]:

    rule neurons_parcel_bold:
        """Parcel-average BOLD of one subject (shared by all models)."""
        input:
            bold=bold_inputs,
            tables=STIMULUS_TABLES,
            parcellation=NEURONS_PARCELLATION_INPUT,
        output:
            f"{NEURONS_DIR}/sub-{{subject}}/parcel_bold.npz",
        log:
            f"{RES}/logs/neurons/parcel_bold_sub-{{subject}}.log",
        benchmark:
            f"{RES}/benchmarks/neurons/parcel_bold_sub-{{subject}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=30,
        params:
            tr=config["data"]["tr"],
            drop_rest=config["temporal"]["drop_rest"],
            mask=config["data"]["mask"],
            parcellation=NEURONS["parcellation"],
        script:
            "../../scripts/neurons_parcel_bold.py"

    rule neurons_subject:
        """Every AN of every layer of one model against one subject's parcels."""
        input:
            parcels=rules.neurons_parcel_bold.output[0],
            activations=lambda wc: activations_dir(wc.model),
            regressors=lambda wc: neurons_model_outputs(
                workflow, f"{RES}/regressors", wc.model
            ),
        output:
            f"{NEURONS_DIR}/sub-{{subject}}/{{model}}.npz",
        log:
            f"{RES}/logs/neurons/subject_sub-{{subject}}_{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/neurons/subject_sub-{{subject}}_{{model}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60,
        params:
            manifest=lambda wc: f"{activations_dir(wc.model)}/manifest.json",
            regressors=lambda wc: f"{RES}/regressors/{wc.model}",
            ar_bins=config["encoding"]["ar_bins"],
        script:
            "../../scripts/neurons_subject.py"

    rule neurons_group:
        """Group test per (AN, parcel): t across subjects and circular-shift null, BH-FDR."""
        input:
            subjects=expand(
                f"{NEURONS_DIR}/sub-{{subject}}/{{{{model}}}}.npz", subject=SUBJECTS
            ),
            parcels=expand(
                f"{NEURONS_DIR}/sub-{{subject}}/parcel_bold.npz", subject=SUBJECTS
            ),
            activations=lambda wc: activations_dir(wc.model),
            regressors=lambda wc: neurons_model_outputs(
                workflow, f"{RES}/regressors", wc.model
            ),
            networks=NETWORKS_NPZ,
            parcellation=NEURONS_PARCELLATION_INPUT,
        output:
            parcels=f"{NEURONS_DIR}/{{model}}/parcels.npz",
            ans=f"{NEURONS_DIR}/{{model}}/ans.tsv",
            summary=f"{NEURONS_DIR}/{{model}}/network_summary.tsv",
        log:
            f"{RES}/logs/neurons/group_{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/neurons/group_{{model}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60,
        params:
            manifest=lambda wc: f"{activations_dir(wc.model)}/manifest.json",
            regressors=lambda wc: f"{RES}/regressors/{wc.model}",
            parcellation=NEURONS["parcellation"],
            fdr_q=NEURONS["fdr_q"],
        script:
            "../../scripts/neurons_group.py"

    rule neurons_cohort_bold:
        """Cohort-mean BOLD (all subjects, one loaded at a time) for the grayordinate option."""
        input:
            bold=NEURONS_COHORT_BOLD,
            tables=STIMULUS_TABLES,
        output:
            temp(f"{NEURONS_DIR}/cohort_bold.npy"),
        log:
            f"{RES}/logs/neurons/cohort_bold.log",
        benchmark:
            f"{RES}/benchmarks/neurons/cohort_bold.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=12000,
            runtime=120,
        params:
            bold=NEURONS_COHORT_BOLD,
            tr=config["data"]["tr"],
            drop_rest=config["temporal"]["drop_rest"],
            mask=config["data"]["mask"],
        script:
            "../../scripts/neurons_cohort_bold.py"

    rule neurons_grayordinates:
        """Every AN of every layer of one model against every grayordinate of the cohort."""
        input:
            cohort=rules.neurons_cohort_bold.output[0],
            activations=lambda wc: activations_dir(wc.model),
            regressors=lambda wc: neurons_model_outputs(
                workflow, f"{RES}/regressors", wc.model
            ),
            networks=NETWORKS_NPZ,
        output:
            counts=f"{NEURONS_DIR}/{{model}}/grayordinates.npz",
            ans=f"{NEURONS_DIR}/{{model}}/grayordinate_ans.tsv",
            summary=f"{NEURONS_DIR}/{{model}}/grayordinate_summary.tsv",
            layers=f"{NEURONS_DIR}/{{model}}/grayordinate_layers.tsv",
        log:
            f"{RES}/logs/neurons/grayordinates_{{model}}.log",
        benchmark:
            f"{RES}/benchmarks/neurons/grayordinates_{{model}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 2
        resources:
            mem_mb=16000,
            runtime=240,
        params:
            manifest=lambda wc: f"{activations_dir(wc.model)}/manifest.json",
            regressors=lambda wc: f"{RES}/regressors/{wc.model}",
            fdr_q=NEURONS["fdr_q"],
            n_shifts=NEURONS["n_shifts"],
            chunk_size=NEURONS["chunk_size"],
            seed=NEURONS["seed"],
            enrichment_q=config["networks"]["enrichment_q"],
        script:
            "../../scripts/neurons_grayordinates.py"

    rule neurons_catalogue:
        """The neuron catalogue, network summary, figure and searchable HTML table."""
        input:
            ans=expand(f"{NEURONS_DIR}/{{model}}/ans.tsv", model=MODELS),
            summaries=expand(
                f"{NEURONS_DIR}/{{model}}/network_summary.tsv", model=MODELS
            ),
            grayordinate_ans=(
                expand(f"{NEURONS_DIR}/{{model}}/grayordinate_ans.tsv", model=MODELS)
                if NEURONS_GRAYORDINATE
                else []
            ),
            grayordinate_summaries=(
                expand(
                    f"{NEURONS_DIR}/{{model}}/grayordinate_summary.tsv", model=MODELS
                )
                if NEURONS_GRAYORDINATE
                else []
            ),
            atoms=lambda wc: neurons_model_outputs(workflow, f"{RES}/atoms", MODELS),
            networks=NETWORKS_NPZ,
            ground_truth=[f"{RES}/simulation/ground_truth.tsv"] if SIMULATION else [],
        output:
            # the TSV stays out of the report: the searchable page below holds the same rows
            catalogue=NEURON_CATALOGUE,
            summary=NEURON_NETWORK_SUMMARY,
            figure=report(
                NEURON_FIGURE,
                caption="../report/neurons_figure.rst",
                category=neurons_report_html.CATEGORIES["neurons"],
                labels={"figure": "neuron catalogue per layer"},
            ),
            html=report(
                NEURON_HTML,
                caption="../report/neurons_html.rst",
                category=neurons_report_html.CATEGORIES["neurons"],
                labels={"table": "neuron catalogue (searchable)"},
            ),
            enrichment=[NEURON_ENRICHMENT] if SIMULATION else [],
        log:
            f"{RES}/logs/neurons/catalogue.log",
        benchmark:
            f"{RES}/benchmarks/neurons/catalogue.tsv"
        conda:
            "../../envs/report.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=60,
        params:
            models=MODELS,
            atoms_dirs=[f"{RES}/atoms/{m}" for m in MODELS],
        script:
            "../../scripts/neurons_catalogue.py"
