"""(stub: being written)"""


def soft_margin_loss(*args, **kwargs):
    raise NotImplementedError("soft_margin_loss")


def multi_margin_loss(*args, **kwargs):
    raise NotImplementedError("multi_margin_loss")


def logistic_loss(*args, **kwargs):
    raise NotImplementedError("logistic_loss")


def hinge_loss(*args, **kwargs):
    raise NotImplementedError("hinge_loss")
