# One subject's own outputs as a target, and the library version as a rerun trigger.
# Included last: record_library_version reads every rule defined before it.


rule subject:
    """One subject's own outputs (nothing shared, nothing aggregated over subjects): the
    target for running one subject, e.g. results/subjects/sub-100610.done."""
    input:
        subject_outputs,
    output:
        touch(path("subject_done")),


# Jobs rerun when the vlmbrain version changes (a params entry of every rule with a script).
record_library_version(workflow.rules)
