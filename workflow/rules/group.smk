# Group statistics: one-sample t-test over subjects and BH-FDR, one job per model.


rule group:
    """Group t, q, activated and deactivated maps of every stream, layer and atom of a model."""
    input:
        encoding=expand(
            f"{RES}/encoding/sub-{{subject}}/{{{{model}}}}", subject=SUBJECTS
        ),
        geometry=lambda wc: config["data"]["bold"].format(
            subject=SUBJECTS[0], run=RUNS[0]
        ),
    output:
        directory(f"{RES}/group/{{model}}"),
    log:
        f"{RES}/logs/group/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/group/{{model}}.tsv"
    conda:
        "../../envs/encoding.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        q=config["group"]["fdr_q"],
        atom_maps=config["group"]["atom_maps"],
        mask=config["data"]["mask"],
    script:
        "../../scripts/group.py"
