"""Simulated BOLD with planted couplings and its ground truth."""
