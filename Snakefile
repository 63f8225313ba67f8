# vlmbrain: neuron-level encoding of vision-language models in movie-watching fMRI.
# Config, validation (of the config in common.smk, of the inputs when a run starts in
# validate.smk), the rules of each stage, and the final targets.
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/stimuli.smk"
include: "workflow/rules/captioning.smk"
include: "workflow/rules/networks.smk"
include: "workflow/rules/activations.smk"
include: "workflow/rules/simulation.smk"
include: "workflow/rules/atoms.smk"
include: "workflow/rules/encoding.smk"
include: "workflow/rules/group.smk"
include: "workflow/rules/neurons.smk"
include: "workflow/rules/findings.smk"
include: "workflow/rules/attribution.smk"
include: "workflow/rules/depth.smk"
include: "workflow/rules/subject.smk"  # last: it reads every rule


rule all:
    default_target: True
    input:
        final_outputs(),
