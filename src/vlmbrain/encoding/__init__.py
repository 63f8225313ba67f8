"""Temporal model, sparse dictionary learning, voxel-wise encoding and group statistics."""
