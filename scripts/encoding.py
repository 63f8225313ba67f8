"""Entry point of rule encoding: AR(1) GLM and ridge prediction of one subject x model."""

from vlmbrain.encoding.subject import encode_subject
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
encode_subject(
    list(snakemake.input.bold),
    list(snakemake.input.tables),
    snakemake.input.atoms,
    snakemake.output[0],
    tr=snakemake.params.tr,
    temporal=snakemake.params.temporal,
    encoding=snakemake.params.encoding,
    mask=snakemake.params.mask,
)
