"""Rule validate_inputs: calls ``vlmbrain.validate.validate_inputs`` with the rule's files and params."""

from vlmbrain.io import setup_logging
from vlmbrain.validate import validate_inputs

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
validate_inputs(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
