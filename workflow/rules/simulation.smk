# Simulated BOLD with planted couplings (METHOD 8), written where real data would be read.

if SIMULATION:
    PLANTED_MODELS = sorted({c["model"] for c in config["simulation"]["couplings"]})

    rule ground_truth:
        """The planted ANs (with weights) and grayordinates of every coupling (``like``
        couplings draw their ANs among the layer's most image- or text-like ANs)."""
        input:
            networks=NETWORKS_NPZ,
            tables=STIMULUS_TABLES,
            activations=[activations_dir(m) for m in PLANTED_MODELS],
        output:
            tsv=f"{RES}/simulation/ground_truth.tsv",
            npz=f"{RES}/simulation/ground_truth.npz",
        log:
            f"{RES}/logs/simulation/ground_truth.log",
        benchmark:
            f"{RES}/benchmarks/simulation/ground_truth.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            couplings=config["simulation"]["couplings"],
            fraction=config["simulation"]["fraction"],
            n_ans=config["simulation"]["ans_per_coupling"],
            seed=config["simulation"]["seed"],
            activations={m: activations_dir(m) for m in PLANTED_MODELS},
        script:
            "../../scripts/ground_truth.py"

    rule simulate_bold:
        """One subject's simulated CIFTI dtseries (91,282 grayordinates), one per run."""
        input:
            tsv=rules.ground_truth.output.tsv,
            npz=rules.ground_truth.output.npz,
            tables=STIMULUS_TABLES,
            activations=[activations_dir(m) for m in PLANTED_MODELS],
        output:
            [config["data"]["bold"].replace("{run}", run) for run in RUNS],
        log:
            f"{RES}/logs/simulation/sub-{{subject}}.log",
        benchmark:
            f"{RES}/benchmarks/simulation/sub-{{subject}}.tsv"
        conda:
            "../../envs/encoding.yaml"
        threads: 1
        resources:
            mem_mb=4000,
            runtime=20,
        params:
            subject_index=lambda wc: SUBJECTS.index(wc.subject),
            simulation=config["simulation"],
            tr=config["data"]["tr"],
            hrf=config["temporal"]["hrf"],
            activations={m: activations_dir(m) for m in PLANTED_MODELS},
        script:
            "../../scripts/simulate_bold.py"
