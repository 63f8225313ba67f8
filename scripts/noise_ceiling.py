"""Entry point of rule noise_ceiling: one subject's validation-clip noise ceiling."""

from vlmbrain.encoding.subject import subject_noise_ceiling
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
subject_noise_ceiling(
    list(snakemake.input.bold),
    list(snakemake.input.tables),
    snakemake.output[0],
    tr=snakemake.params.tr,
    temporal=snakemake.params.temporal,
    mask=snakemake.params.mask,
)
