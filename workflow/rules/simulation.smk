# Simulated BOLD with planted couplings, written where real data would be read.

if SIMULATION:
    PLANTED_MODELS = sorted({c["model"] for c in config["simulation"]["couplings"]})

    rule ground_truth:
        """The planted ANs (with weights) and grayordinates of every coupling (``like``
        couplings draw their ANs among the layer's most image- or text-like ANs)."""
        input:
            networks=path("networks_npz"),
            tables=paths("stimulus_table", run=RUNS),
            activations=paths("activations", model=PLANTED_MODELS),
        output:
            tsv=path("ground_truth_tsv"),
            npz=path("ground_truth_npz"),
        log:
            log_path("simulation/ground_truth"),
        benchmark:
            benchmark_path("simulation/ground_truth")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            models=PLANTED_MODELS,
            couplings=config["simulation"]["couplings"],
            fraction=config["simulation"]["fraction"],
            n_ans=config["simulation"]["ans_per_coupling"],
            seed=config["simulation"]["seed"],
        script:
            "../../scripts/ground_truth.py"

    rule simulate_bold:
        """One subject's simulated CIFTI dtseries (91,282 grayordinates), one per run."""
        input:
            tsv=path("ground_truth_tsv"),
            npz=path("ground_truth_npz"),
            tables=paths("stimulus_table", run=RUNS),
            activations=paths("activations", model=PLANTED_MODELS),
        output:
            bold=[config["data"]["bold"].replace("{run}", run) for run in RUNS],
        log:
            log_path("simulation/sub-{subject}"),
        benchmark:
            benchmark_path("simulation/sub-{subject}")
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=20,
        params:
            models=PLANTED_MODELS,
            subject_index=lambda wildcards: SUBJECTS.index(wildcards.subject),
            seed=config["simulation"]["seed"],
            sigma=config["simulation"]["noise"]["sigma"],
            ar1=config["simulation"]["noise"]["ar1"],
            drift=config["simulation"]["noise"]["drift"],
            subject_variability=config["simulation"]["noise"]["subject_variability"],
            tr=config["data"]["tr"],
            hrf=config["temporal"]["hrf"],
        script:
            "../../scripts/simulate_bold.py"
