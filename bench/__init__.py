"""Benchmarks of the workflow beside their references; ``python -m bench`` runs them all."""
