"""Entry point of the ``captions`` rule: the captions table of one run from its frames."""

from vlmbrain.io import setup_logging
from vlmbrain.stimuli.captioning import caption_run

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
p = snakemake.params
caption_run(
    snakemake.output[0],
    p.captioning["model"],
    video=None if p.frames_dir else snakemake.input.frames,
    frames_dir=snakemake.input.frames if p.frames_dir else None,
    interval=p.captioning["interval"],
    tr=p.tr,
    max_new_tokens=p.captioning["max_new_tokens"],
    batch_size=p.captioning["batch_size"],
    cache_dir=p.extraction.get("cache_dir"),
    offline=p.extraction.get("offline", True),
)
