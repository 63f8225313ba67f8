"""Variance partitioning of fMRI responses between feature spaces with banded ridge regression."""
