# Per-neuron encoders: every artificial neuron (AN) of every layer against every parcel of
# every subject (AR(1) GLM t, group t, BH-FDR), optionally against every grayordinate of
# the cohort (circular-shift null), and the neuron catalogue.
# Library: vlmbrain.neurons; files: docs/design.md.

NEURONS_PARCELLATION_INPUT = (
    []
    if config["neurons"]["parcellation"] == "cole_anticevic_parcels"
    else [config["neurons"]["parcellation"]]
)


if NEURONS:

    rule neurons_parcel_bold:
        """Parcel-average BOLD of one subject (shared by all models)."""
        input:
            bold=bold_inputs,
            mask=bold_mask(),
            tables=paths("stimulus_table", run=RUNS),
            parcellation_file=NEURONS_PARCELLATION_INPUT,
        output:
            parcel_bold=path("parcel_bold"),
        log:
            log_path("neurons/parcel_bold_sub-{subject}"),
        benchmark:
            benchmark_path("neurons/parcel_bold_sub-{subject}")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=vbresources.mem_mb("neurons_parcel_bold"),
            runtime=vbresources.runtime("neurons_parcel_bold"),
        params:
            tr=config["data"]["tr"],
            drop_rest=config["temporal"]["drop_rest"],
            nonfinite=config["data"]["nonfinite"],
            parcellation=parcellation_param,
        script:
            "../../scripts/neurons_parcel_bold.py"

    rule neurons_subject:
        """Every AN of every layer of one model against one subject's parcels."""
        input:
            parcel_bold=path("parcel_bold"),
            activations=path("activations"),
            regressors=path("regressors"),
        output:
            stats=path("neurons_subject"),
        log:
            log_path("neurons/subject_sub-{subject}_{model}"),
        benchmark:
            benchmark_path("neurons/subject_sub-{subject}_{model}")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60,
            gpu=COMPUTE_GPUS,
        params:
            ar_bins=config["encoding"]["ar_bins"],
            backend=config["compute"]["backend"],
            device=config["compute"]["device"],
        script:
            "../../scripts/neurons_subject.py"

    rule neurons_group:
        """Group test per (AN, parcel): t across subjects and circular-shift null, BH-FDR."""
        input:
            subjects=paths("neurons_subject", subject=SUBJECTS),
            parcel_bold=paths("parcel_bold", subject=SUBJECTS),
            activations=path("activations"),
            regressors=path("regressors"),
            networks=path("networks_npz"),
            parcellation_file=NEURONS_PARCELLATION_INPUT,
            mask=bold_mask(),
        output:
            parcels=path("neurons_parcels"),
            ans=path("neurons_ans"),
            summary=path("neurons_summary"),
        log:
            log_path("neurons/group_{model}"),
        benchmark:
            benchmark_path("neurons/group_{model}")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=60,
        params:
            parcellation=parcellation_param,
            q=config["neurons"]["fdr_q"],
        script:
            "../../scripts/neurons_group.py"

    rule neurons_cohort_bold:
        """Cohort-mean BOLD (all subjects, one loaded at a time) for the grayordinate option."""
        input:
            bold=[
                config["data"]["bold"].format(subject=s, run=r)
                for s in SUBJECTS
                for r in RUNS
            ],
            mask=bold_mask(),
            tables=paths("stimulus_table", run=RUNS),
        output:
            cohort=temp(path("cohort_bold")),
        log:
            log_path("neurons/cohort_bold"),
        benchmark:
            benchmark_path("neurons/cohort_bold")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=vbresources.mem_mb("neurons_cohort_bold"),
            runtime=vbresources.runtime("neurons_cohort_bold"),
        params:
            n_subjects=len(SUBJECTS),
            tr=config["data"]["tr"],
            drop_rest=config["temporal"]["drop_rest"],
            nonfinite=config["data"]["nonfinite"],
        script:
            "../../scripts/neurons_cohort_bold.py"

    rule neurons_grayordinates:
        """Every AN of every layer of one model against every grayordinate of the cohort."""
        input:
            cohort=path("cohort_bold"),
            activations=path("activations"),
            regressors=path("regressors"),
            networks=path("networks_npz"),
        output:
            counts=path("grayordinate_counts"),
            ans=path("grayordinate_ans"),
            summary=path("grayordinate_summary"),
            layers=path("grayordinate_layers"),
        log:
            log_path("neurons/grayordinates_{model}"),
        benchmark:
            benchmark_path("neurons/grayordinates_{model}")
        conda:
            "../../envs/encoding.yaml"
        threads: per_model_threads()
        resources:
            mem_mb=vbresources.mem_mb("neurons_grayordinates"),
            runtime=vbresources.runtime("neurons_grayordinates"),
            gpu=COMPUTE_GPUS,
        params:
            q=config["neurons"]["fdr_q"],
            n_shifts=config["neurons"]["n_shifts"],
            chunk_size=config["neurons"]["chunk_size"],
            seed=config["neurons"]["seed"],
            enrichment_q=config["networks"]["enrichment_q"],
            backend=config["compute"]["backend"],
            device=config["compute"]["device"],
        script:
            "../../scripts/neurons_grayordinates.py"

    rule neurons_catalogue:
        """The neuron catalogue, network summary, figure and searchable HTML table."""
        input:
            ans=paths("neurons_ans", model=MODELS),
            summaries=paths("neurons_summary", model=MODELS),
            grayordinate_ans=(
                paths("grayordinate_ans", model=MODELS) if NEURONS_GRAYORDINATE else []
            ),
            grayordinate_summaries=(
                paths("grayordinate_summary", model=MODELS)
                if NEURONS_GRAYORDINATE
                else []
            ),
            atoms=paths("atoms", model=MODELS),
            networks=path("networks_npz"),
            ground_truth=[path("ground_truth_tsv")] if SIMULATION else [],
        output:
            # the TSV stays out of the report: the searchable page below holds the same rows
            catalogue=path("neuron_catalogue"),
            summary=path("neuron_network_summary"),
            figure=report(
                path("neuron_figure"),
                caption="../report/neurons_figure.rst",
                category=REPORT_CATEGORIES["neurons"],
                labels={"figure": "neuron catalogue per layer"},
            ),
            html=report(
                path("neuron_html"),
                caption="../report/neurons_html.rst",
                category=REPORT_CATEGORIES["neurons"],
                labels={"table": "neuron catalogue (searchable)"},
            ),
            enrichment=[path("planted_enrichment")] if SIMULATION else [],
        log:
            log_path("neurons/catalogue"),
        benchmark:
            benchmark_path("neurons/catalogue")
        conda:
            "../../envs/report.yaml"
        threads: 1
        resources:
            mem_mb=8000,
            runtime=60,
        params:
            models=MODELS,
        script:
            "../../scripts/neurons_catalogue.py"
