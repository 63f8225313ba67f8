# Findings: network overlap, the four findings tables, figures, brain maps, recovery and
# the report pages (docs/outputs.md describes every column and figure).


rule network_overlap:
    """Overlap, Dice and enrichment of every atom map with every network (all layers)."""
    input:
        activations=paths("activations", model=MODELS),
        networks=path("networks_npz"),
        group=paths("group", model=MODELS),
    output:
        table=report(
            path("network_overlap"),
            caption="../report/network_overlap.rst",
            category=REPORT_CATEGORIES["networks"],
            labels={"table": "network overlap"},
        ),
    log:
        log_path("findings/network_overlap"),
    benchmark:
        benchmark_path("findings/network_overlap")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        models=MODELS,
        q=config["networks"]["enrichment_q"],
    script:
        "../../scripts/network_overlap.py"


rule findings_tables:
    """Prediction (with the noise ceiling), redundancy, polarity (and its trend) and
    architecture tables, and each subject's noise ceiling per network."""
    input:
        neurons=[path("neuron_network_summary")] if NEURONS else [],
        activations=paths("activations", model=MODELS),
        networks=path("networks_npz"),
        overlap=path("network_overlap"),
        group=paths("group", model=MODELS),
        atoms=paths("atoms", model=MODELS),
        ceilings=paths("noise_ceiling", subject=SUBJECTS),
    output:
        **{
            key: report(
                path("table", table=key),
                caption=f"../report/table_{key}.rst",
                category=REPORT_CATEGORIES[key.split("_")[0]],
                labels={"table": key.replace("_", " ")},
            )
            for key in FINDINGS_TABLES
        },
        noise_ceiling=report(
            path("table", table="noise_ceiling"),
            caption="../report/table_noise_ceiling.rst",
            category=REPORT_CATEGORIES["prediction"],
            labels={"table": "noise ceiling"},
        ),
        page=report(
            path("page", page="findings"),
            caption="../report/findings_page.rst",
            category=REPORT_CATEGORIES["architecture"],
            labels={"table": "summary tables (HTML)"},
        ),
    log:
        log_path("findings/findings_tables"),
    benchmark:
        benchmark_path("findings/findings_tables")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        models=MODELS,
        subjects=SUBJECTS,
        ceiling_p=config["encoding"]["ceiling_p"],
    script:
        "../../scripts/findings_tables.py"


rule findings_figures:
    """One figure per finding across layers, streams and models."""
    input:
        **{key: path("table", table=key) for key in FINDINGS_TABLES},
        activations=paths("activations", model=MODELS),
        networks=path("networks_npz"),
    output:
        **{
            key: report(
                path("figure", figure=key),
                caption=f"../report/figure_{key}.rst",
                category=REPORT_CATEGORIES[key],
                labels={"figure": key},
            )
            for key in FINDINGS_FIGURES
        },
    log:
        log_path("findings/findings_figures"),
    benchmark:
        benchmark_path("findings/findings_figures")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        models=MODELS,
    script:
        "../../scripts/findings_figures.py"


rule brain_maps:
    """Representative atoms and the redundancy map of one model on the inflated surfaces."""
    input:
        overlap=path("network_overlap"),
        dlabel=path("networks_dlabel"),
        group=path("group"),
    output:
        atoms=report(
            path("brain_map", map="atoms"),
            caption="../report/brain_atoms.rst",
            category=REPORT_CATEGORIES["brain_maps"],
            subcategory="representative atoms",
            labels={"model": "{model}", "map": "representative atoms"},
        ),
        redundancy=report(
            path("brain_map", map="redundancy"),
            caption="../report/brain_redundancy.rst",
            category=REPORT_CATEGORIES["brain_maps"],
            subcategory="redundancy",
            labels={"model": "{model}", "map": "redundancy"},
        ),
    log:
        log_path("findings/brain_maps_{model}"),
    benchmark:
        benchmark_path("findings/brain_maps_{model}")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    script:
        "../../scripts/brain_maps.py"


rule network_map:
    """The network template on the inflated surfaces."""
    input:
        npz=path("networks_npz"),
        dlabel=path("networks_dlabel"),
    output:
        figure=report(
            path("network_map"),
            caption="../report/brain_networks.rst",
            category=REPORT_CATEGORIES["networks"],
            labels={"figure": "network template"},
        ),
    log:
        log_path("findings/network_map"),
    benchmark:
        benchmark_path("findings/network_map")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../../scripts/network_map.py"


rule recovery:
    """Planted against found couplings of the simulation."""
    input:
        **(
            {
                "attribution": path("table", table="attribution"),
                "features": path("attribution_features"),
                "ground_truth_npz": path("ground_truth_npz"),
                "tables": paths("stimulus_table", run=RUNS),
            }
            if ATTRIBUTION
            else {}
        ),
        activations=paths("activations", model=MODELS),
        networks=path("networks_npz"),
        overlap=path("network_overlap"),
        ground_truth=path("ground_truth_tsv"),
    output:
        table=report(
            path("recovery"),
            caption="../report/recovery_table.rst",
            category=REPORT_CATEGORIES["recovery"],
            labels={"item": "recovery table (TSV)"},
        ),
        page=report(
            path("page", page="recovery"),
            caption="../report/recovery_page.rst",
            category=REPORT_CATEGORIES["recovery"],
            labels={"item": "planted versus found"},
        ),
        figure=report(
            path("recovery_figure"),
            caption="../report/recovery_figure.rst",
            category=REPORT_CATEGORIES["recovery"],
            labels={"item": "recovery figure"},
        ),
    log:
        log_path("findings/recovery"),
    benchmark:
        benchmark_path("findings/recovery")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        **(
            {
                "against": config["attribution"]["against"],
                "tr": config["data"]["tr"],
                "hrf": config["temporal"]["hrf"],
                "drop_rest": config["temporal"]["drop_rest"],
            }
            if ATTRIBUTION
            else {}
        ),
        models=MODELS,
    script:
        "../../scripts/recovery.py"


rule provenance:
    """Models and their weights, the data source and the configuration, for the report."""
    input:
        ground_truth=[path("ground_truth_tsv")] if SIMULATION else [],
        activations=paths("activations", model=MODELS),
        networks=path("networks_npz"),
    output:
        page=report(
            path("page", page="provenance"),
            caption="../report/provenance.rst",
            category=REPORT_CATEGORIES["provenance"],
            labels={"page": "provenance"},
        ),
    log:
        log_path("findings/provenance"),
    benchmark:
        benchmark_path("findings/provenance")
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=MODELS,
        subjects=SUBJECTS,
        runs=RUNS,
        config=config,
    script:
        "../../scripts/provenance.py"
