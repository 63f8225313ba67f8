# vlmbrain: neuron-level encoding of vision-language models in movie-watching fMRI.
# Config, validation (in common.smk), the rules of each stage, and the final targets.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/stimuli.smk"
include: "workflow/rules/networks.smk"


rule all:
    default_target: True
    input:
        STIMULUS_TABLES,
        NETWORKS_NPZ,
