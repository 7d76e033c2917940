"""Models of the course, written from scratch so every step can be read and checked."""

from .backprop import Network, Trace, sigmoid

__all__ = ["Network", "Trace", "sigmoid"]
