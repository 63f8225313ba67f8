# Functional networks: the template's labels grouped into the networks of the findings.


rule networks:
    """Masks of the mapped networks (npz) and a CIFTI dlabel of them for the report."""
    output:
        npz=NETWORKS_NPZ,
        dlabel=NETWORKS_DLABEL,
    log:
        f"{RES}/logs/networks.log",
    benchmark:
        f"{RES}/benchmarks/networks.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        template=config["networks"]["template"],
        mapping=config["networks"]["mapping"],
    script:
        "../../scripts/networks.py"
