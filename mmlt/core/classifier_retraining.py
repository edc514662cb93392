"""The two trained decoupled baselines of Kang et al. (ICLR 2020,
"Decoupling Representation and Classifier for Long-Tailed Recognition"),
each trained alone on the frozen stage-1 model with class-balanced sampling
(``mmlt.engine.ClassBalancedSampler``) and the stock cross-entropy:

* cRT (classifier re-training): a re-initialised linear classifier,
  ``retrained``; the stage-1 one stays in the module, frozen and unused, so
  that a stage-1 checkpoint loads as for every stage-2 method (only the new
  keys missing).
* LWS (learnable weight scaling): the stage-1 classifier kept, one learnt
  scale per class on its logits, ``calibration.scale`` (init 1).
"""
from torch import Tensor, nn

from .logit_adjustment import AdjustsLogits


class LogitScaling(nn.Module):
    """``z_c * f_c`` for the first ``num_classes`` logits, ``f`` learnt
    (init 1); trailing logits pass through."""

    def __init__(self, num_classes: int, num_uncalibrated: int = 0) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.num_uncalibrated = num_uncalibrated
        self.scale = nn.Parameter(Tensor(num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.ones_(self.scale)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg``."""
        self.reset_parameters()

    def extra_repr(self) -> str:
        return f'num_classes={self.num_classes}'

    def forward(self, logits: Tensor) -> Tensor:
        shape = (1, -1) + (1, ) * (logits.dim() - 2)
        scale = self.scale.to(logits.dtype)
        if self.num_uncalibrated:
            scale = nn.functional.pad(scale, (0, self.num_uncalibrated),
                                      value=1.0)
        return logits * scale.view(shape)


class LWSLinear(AdjustsLogits, nn.Linear):
    """``nn.Linear`` (the frozen stage-1 classifier) with a learnt scale per
    class on its logits."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, num_uncalibrated: int = 0) -> None:
        super().__init__(in_features, out_features, bias)
        self.calibration = LogitScaling(out_features - num_uncalibrated,
                                        num_uncalibrated)


class RetrainedLinear(nn.Linear):
    """cRT's classifier: ``retrained``, a new ``nn.Linear`` of the same
    shape, gives the logits; ``weight`` / ``bias`` hold the frozen stage-1
    classifier, unused."""

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        # the toolboxes' init_cfg (Normal std 0.01 on Linear layers)
        # reaches it too: cRT's re-initialisation
        self.retrained = nn.Linear(in_features, out_features, bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.retrained(x)
