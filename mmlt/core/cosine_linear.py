"""The cosine classifier: the stage-1 classifier of DisAlign's cosine
variant ("DisAlign*"), calibrated by ``DisAlignCosineLinear``
(``mmlt.core.calibration``), adjusted by ``LogitAdjustedCosineLinear``."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class CosineLinear(nn.Linear):
    """Cosine classifier: ``scale * <x / |x|, w_j / |w_j|>``.

    The learnable scale starts at 20 (DisAlign's cosine variant). No bias by
    default.

    The rows start with unit norm, and ``init_weights()`` (which mmengine
    calls after the head's ``init_cfg``) draws them so again: the gradient
    through ``F.normalize`` scales as ``1 / |w_j|``, so rows drawn with the
    toolboxes' Normal std 0.01 (norm ~0.08 for 64 features) take one huge
    first step (measured: to norm ~37 in the first epoch on LT-Digits at lr
    0.1), after which their effective learning rate (``~ 1 / |w_j|^2``) is
    ~1e-3 of the intended one and the classifier stays where it started:
    stage 1 predicted 2-5 of 10 classes.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = False,
                 scale: float = 20.0,
                 learnable_scale: bool = True) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.scale = nn.Parameter(
            torch.tensor(float(scale)), requires_grad=learnable_scale)

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Rows of unit norm in random directions; bias 0 (class doc)."""
        nn.init.normal_(self.weight)
        self.weight.div_(self.weight.norm(dim=1, keepdim=True))
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def init_weights(self) -> None:
        """Called by mmengine after the head's ``init_cfg`` (class doc)."""
        self.reset_parameters()

    def normalized_input(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=1)

    def forward(self, x: Tensor) -> Tensor:
        logits = self.scale * F.linear(
            self.normalized_input(x), F.normalize(self.weight, dim=1))
        return logits if self.bias is None else logits + self.bias
