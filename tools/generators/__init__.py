"""Procedural generators, correct by construction (BenchAgents)."""
