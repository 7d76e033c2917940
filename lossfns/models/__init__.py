"""Models of the course, written from scratch so every step can be read and checked."""

from .backprop import Network, Trace, sigmoid
from .prelu_classifier import PReLUClassifier

__all__ = ["Network", "PReLUClassifier", "Trace", "sigmoid"]
