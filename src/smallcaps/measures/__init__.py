"""Registered measurements, one module per pillar; see :mod:`smallcaps.registry`."""
