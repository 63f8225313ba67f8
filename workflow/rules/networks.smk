# Functional networks: the template's labels grouped into the networks of the findings.


rule networks:
    """Masks of the mapped networks (npz) and a CIFTI dlabel of them for the report."""
    input:
        mask=bold_mask(),
        atlas=network_atlas_inputs("template"),
        label_table=network_atlas_inputs("labels"),
    output:
        npz=path("networks_npz"),
        dlabel=path("networks_dlabel"),
    log:
        log_path("networks"),
    benchmark:
        benchmark_path("networks")
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        # a NIfTI atlas and its label table are read from the inputs
        template=lambda wildcards, input: (
            input.atlas[0] if input.atlas else config["networks"]["template"]
        ),
        labels=lambda wildcards, input: (
            input.label_table[0] if input.label_table else None
        ),
        mapping=config["networks"]["mapping"],
    script:
        "../../scripts/networks.py"
