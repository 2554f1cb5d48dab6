"""Version of the minigrad-core distribution (read by hatch, bumped by ``hatch version``)."""

__version__ = "0.1.0"
