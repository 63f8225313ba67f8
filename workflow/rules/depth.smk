# Depth at a glance: each grayordinate's preferred layer per stream, one job per model.


rule depth:
    """Preferred layer per grayordinate and stream (dlabel, figure, per-network table)."""
    input:
        encoding=expand(
            f"{RES}/encoding/sub-{{subject}}/{{{{model}}}}", subject=SUBJECTS
        ),
        networks=NETWORKS_NPZ,
        dlabel=NETWORKS_DLABEL,
    output:
        dlabel=f"{RES}/depth/{{model}}_preferred_layer.dlabel.nii",
        figure=report(
            f"{RES}/figures/brain/{{model}}_depth.png",
            caption="../report/depth.rst",
            category=FINDINGS_CATEGORIES["brain_maps"],
            subcategory="preferred layer",
            labels={"model": "{model}", "map": "preferred layer"},
        ),
        table=f"{RES}/depth/{{model}}_preferred_layer.tsv",
    log:
        f"{RES}/logs/depth/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/depth/{{model}}.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        q=config["group"]["fdr_q"],
        n_flips=config["attribution"]["n_flips"],
        seed=config["attribution"]["seed"],
    script:
        "../../scripts/depth.py"


DEPTH_TARGETS = expand(
    [
        f"{RES}/depth/{{model}}_preferred_layer.dlabel.nii",
        f"{RES}/figures/brain/{{model}}_depth.png",
        f"{RES}/depth/{{model}}_preferred_layer.tsv",
    ],
    model=MODELS,
)
