"""Version of the minigrad-data distribution (read by hatch, bumped by ``hatch version``)."""

__version__ = "0.1.0"
