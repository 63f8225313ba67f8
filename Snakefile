# vlmbrain: neuron-level encoding of vision-language models in movie-watching fMRI.
# Config, validation (in common.smk), the rules of each stage, and the targets: all, and
# one subject's own outputs.
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/stimuli.smk"
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


# Jobs rerun when the vlmbrain version changes (a params entry of every rule with a script).
record_library_version(workflow.rules)


rule all:
    default_target: True
    input:
        final_outputs(),


rule subject:
    """One subject's own outputs (nothing shared, nothing aggregated over subjects): the
    target for running one subject, e.g. results/subjects/sub-100610.done."""
    input:
        subject_outputs,
    output:
        touch(path("subject_done")),
