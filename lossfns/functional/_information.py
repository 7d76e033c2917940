"""(stub: being written)"""


def entropy(*args, **kwargs):
    raise NotImplementedError("entropy")


def cross_entropy_dist(*args, **kwargs):
    raise NotImplementedError("cross_entropy_dist")


def kl_div(*args, **kwargs):
    raise NotImplementedError("kl_div")
