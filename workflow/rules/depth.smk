# Depth at a glance: each grayordinate's preferred layer per stream, one job per model.

# The surface figure, except with NIfTI data (no cortical surface; the job logs why).
DEPTH_FIGURE = (
    {}
    if VOLUMETRIC
    else {
        "figure": report(
            path("brain_map", map="depth"),
            caption="../report/depth.rst",
            category=REPORT_CATEGORIES["brain_maps"],
            subcategory="preferred layer",
            labels={"model": "{model}", "map": "preferred layer"},
        )
    }
)


rule depth:
    """Preferred layer per grayordinate and stream (dlabel, figure, per-network table)."""
    input:
        encoding=paths("encoding", subject=SUBJECTS),
        networks=path("networks_npz"),
        dlabel=path("networks_dlabel"),
    output:
        **DEPTH_FIGURE,
        preferred=path("depth_dlabel"),
        table=path("depth_table"),
    log:
        log_path("depth/{model}"),
    benchmark:
        benchmark_path("depth/{model}")
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
