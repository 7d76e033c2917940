"""lossfns: the reference implementation behind the loss-functions course.

``lossfns.functional`` mirrors ``torch.nn.functional``; ``lossfns.nn`` holds the
module wrappers. The book imports this package, and the grader trusts it.
"""

__version__ = "0.1.0"
