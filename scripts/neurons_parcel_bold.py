"""Entry point of rule neurons_parcel_bold."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.jobs import parcel_bold_job

setup_logging(snakemake.log[0])
parcel_bold_job(
    list(snakemake.input.bold),
    list(snakemake.input.tables),
    tr=snakemake.params.tr,
    drop_rest=snakemake.params.drop_rest,
    parcellation=snakemake.params.parcellation,
    out_npz=snakemake.output[0],
    mask=snakemake.params.mask,
)
