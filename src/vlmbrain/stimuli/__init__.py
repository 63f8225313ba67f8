"""Stimuli: the synthetic movie, video decoding and per-TR stimulus tables."""
