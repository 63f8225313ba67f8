# Findings: network overlap, the four findings tables, figures, brain maps, recovery and
# the report pages (docs/outputs.md describes every column and figure).
from vlmbrain.report import html as vbreport_html

FINDINGS_TABLES = {
    key: f"{RES}/tables/{key}.tsv"
    for key in (
        "prediction",
        "redundancy",
        "polarity",
        "polarity_trend",
        "architecture",
    )
}
FINDINGS_FIGURES = {
    key: f"{RES}/figures/{key}.png"
    for key in ("prediction", "redundancy", "polarity", "architecture")
}
NETWORK_OVERLAP = f"{RES}/tables/network_overlap.tsv"
GROUND_TRUTH = f"{RES}/simulation/ground_truth.tsv"
NEURON_SUMMARY = f"{RES}/neurons/network_summary.tsv"
FINDINGS_CATEGORIES = vbreport_html.CATEGORIES


rule network_overlap:
    """Overlap, Dice and enrichment of every atom map with every network (all layers)."""
    input:
        activations=[activations_dir(m) for m in MODELS],
        networks=NETWORKS_NPZ,
        group=expand(f"{RES}/group/{{model}}", model=MODELS),
    output:
        table=report(
            NETWORK_OVERLAP,
            caption=f"../report/network_overlap.rst",
            category=FINDINGS_CATEGORIES["networks"],
            labels={"table": "network overlap"},
        ),
    log:
        f"{RES}/logs/findings/network_overlap.log",
    benchmark:
        f"{RES}/benchmarks/findings/network_overlap.tsv"
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
    """Prediction, redundancy, polarity (and its trend) and architecture tables."""
    input:
        **({"neurons": NEURON_SUMMARY} if config["neurons"]["enabled"] else {}),
        activations=[activations_dir(m) for m in MODELS],
        networks=NETWORKS_NPZ,
        overlap=NETWORK_OVERLAP,
        group=expand(f"{RES}/group/{{model}}", model=MODELS),
        atoms=expand(f"{RES}/atoms/{{model}}", model=MODELS),
    output:
        **{
            key: report(
                path,
                caption=f"../report/table_{key}.rst",
                category=FINDINGS_CATEGORIES[key.split("_")[0]],
                labels={"table": key.replace("_", " ")},
            )
            for key, path in FINDINGS_TABLES.items()
        },
        page=report(
            f"{RES}/report/findings.html",
            caption=f"../report/findings_page.rst",
            category=FINDINGS_CATEGORIES["architecture"],
            labels={"table": "summary tables (HTML)"},
        ),
    log:
        f"{RES}/logs/findings/findings_tables.log",
    benchmark:
        f"{RES}/benchmarks/findings/findings_tables.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        models=MODELS,
    script:
        "../../scripts/findings_tables.py"


rule findings_figures:
    """One figure per finding across layers, streams and models."""
    input:
        **FINDINGS_TABLES,
        activations=[activations_dir(m) for m in MODELS],
        networks=NETWORKS_NPZ,
    output:
        **{
            key: report(
                path,
                caption=f"../report/figure_{key}.rst",
                category=FINDINGS_CATEGORIES[key],
                labels={"figure": key},
            )
            for key, path in FINDINGS_FIGURES.items()
        },
    log:
        f"{RES}/logs/findings/findings_figures.log",
    benchmark:
        f"{RES}/benchmarks/findings/findings_figures.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        models=MODELS,
        tables=list(FINDINGS_TABLES),
        figures=list(FINDINGS_FIGURES),
    script:
        "../../scripts/findings_figures.py"


rule brain_maps:
    """Representative atoms and the redundancy map of one model on the inflated surfaces."""
    input:
        overlap=NETWORK_OVERLAP,
        dlabel=NETWORKS_DLABEL,
        group=f"{RES}/group/{{model}}",
    output:
        atoms=report(
            f"{RES}/figures/brain/{{model}}_atoms.png",
            caption=f"../report/brain_atoms.rst",
            category=FINDINGS_CATEGORIES["brain_maps"],
            subcategory="representative atoms",
            labels={"model": "{model}", "map": "representative atoms"},
        ),
        redundancy=report(
            f"{RES}/figures/brain/{{model}}_redundancy.png",
            caption=f"../report/brain_redundancy.rst",
            category=FINDINGS_CATEGORIES["brain_maps"],
            subcategory="redundancy",
            labels={"model": "{model}", "map": "redundancy"},
        ),
    log:
        f"{RES}/logs/findings/brain_maps_{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/findings/brain_maps_{{model}}.tsv"
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
        npz=NETWORKS_NPZ,
        dlabel=NETWORKS_DLABEL,
    output:
        figure=report(
            f"{RES}/figures/brain/networks.png",
            caption=f"../report/brain_networks.rst",
            category=FINDINGS_CATEGORIES["networks"],
            labels={"figure": "network template"},
        ),
    log:
        f"{RES}/logs/findings/network_map.log",
    benchmark:
        f"{RES}/benchmarks/findings/network_map.tsv"
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
        activations=[activations_dir(m) for m in MODELS],
        networks=NETWORKS_NPZ,
        overlap=NETWORK_OVERLAP,
        ground_truth=GROUND_TRUTH,
    output:
        table=report(
            f"{RES}/simulation/recovery.tsv",
            caption=f"../report/recovery_table.rst",
            category=FINDINGS_CATEGORIES["recovery"],
            labels={"item": "recovery table (TSV)"},
        ),
        page=report(
            f"{RES}/report/recovery.html",
            caption=f"../report/recovery_page.rst",
            category=FINDINGS_CATEGORIES["recovery"],
            labels={"item": "planted versus found"},
        ),
        figure=report(
            f"{RES}/figures/recovery.png",
            caption=f"../report/recovery_figure.rst",
            category=FINDINGS_CATEGORIES["recovery"],
            labels={"item": "recovery figure"},
        ),
    log:
        f"{RES}/logs/findings/recovery.log",
    benchmark:
        f"{RES}/benchmarks/findings/recovery.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        models=MODELS,
    script:
        "../../scripts/recovery.py"


rule provenance:
    """Models and their weights, the data source and the configuration, for the report."""
    input:
        **({"ground_truth": GROUND_TRUTH} if SIMULATION else {}),
        activations=[activations_dir(m) for m in MODELS],
        networks=NETWORKS_NPZ,
    output:
        page=report(
            f"{RES}/report/provenance.html",
            caption=f"../report/provenance.rst",
            category=FINDINGS_CATEGORIES["provenance"],
            labels={"page": "provenance"},
        ),
    log:
        f"{RES}/logs/findings/provenance.log",
    benchmark:
        f"{RES}/benchmarks/findings/provenance.tsv"
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


REPORT_TARGETS = (
    [NETWORK_OVERLAP, f"{RES}/report/findings.html", f"{RES}/report/provenance.html"]
    + list(FINDINGS_TABLES.values())
    + list(FINDINGS_FIGURES.values())
    + [f"{RES}/figures/brain/networks.png"]
    + expand(
        f"{RES}/figures/brain/{{model}}_{{kind}}.png",
        model=MODELS,
        kind=["atoms", "redundancy"],
    )
    + (
        [
            f"{RES}/simulation/recovery.tsv",
            f"{RES}/report/recovery.html",
            f"{RES}/figures/recovery.png",
        ]
        if SIMULATION
        else []
    )
)
