"""Adapters to the outside world, one module per system, plus in-memory twins in ``memory``."""
