# Group statistics: one-sample t-test over subjects and BH-FDR, one job per model.


rule group:
    """Group t, q, activated and deactivated maps of every stream, layer and atom of a model."""
    input:
        encoding=paths("encoding", subject=SUBJECTS),
        geometry=config["data"]["bold"].format(subject=SUBJECTS[0], run=RUNS[0]),
        mask=bold_mask(),
    output:
        group=directory(path("group")),
    log:
        log_path("group/{model}"),
    benchmark:
        benchmark_path("group/{model}")
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=vbresources.mem_mb("group"),
        runtime=vbresources.runtime("group"),
    params:
        q=config["group"]["fdr_q"],
        atom_maps=config["group"]["atom_maps"],
        moderated=config["group"]["moderated"],
    script:
        "../../scripts/group.py"
