"""vlmbrain: neuron-level encoding of vision-language models in movie-watching fMRI."""

__version__ = "0.1.0"
