"""Classification heads for DisAlign in mmpretrain 1.x.

All three subclass mmpretrain's ``LinearClsHead`` and only replace its
``self.fc``; loss, accuracy and prediction stay mmpretrain's:

* ``CosineLinearClsHead``: a cosine classifier (stage 1 of the cosine
  variant), ``fc.weight`` plus a learnable ``fc.scale`` (init 20).
* ``DisAlignLinearClsHead``: the stock dot-product ``fc`` followed by
  DisAlign's adaptive calibration. A stock ``LinearClsHead`` checkpoint loads
  with only the ``fc.calibration.*`` keys new.
* ``DisAlignCosineLinearClsHead``: the same on the cosine classifier; a
  ``CosineLinearClsHead`` checkpoint loads with only ``fc.calibration.*`` new.

Stage 2 configs swap the head type, set ``loss=dict(type='GRWKLLoss', ...)``
and ``runner_type = 'DisAlignRunner'``.

The decoupled baselines, on the same stage-1 checkpoints (only their own
keys new, if any):

* ``LogitAdjustedLinearClsHead`` / ``LogitAdjustedCosineLinearClsHead`` /
  ``LogitAdjustedVisionTransformerClsHead`` (``logit_adjusted_head()`` makes
  others): post-hoc logit adjustment, ``z - tau * log(prior)``;
* ``TauNormLinearClsHead``: post-hoc tau-normalisation of ``fc``;
* ``LWSLinearClsHead``: LWS, a learnt scale per class;
* ``RetrainedLinearClsHead``: cRT, a re-initialised ``fc`` trained alone.
"""
from typing import Optional

from mmpretrain.models.heads import LinearClsHead, VisionTransformerClsHead
from mmpretrain.registry import MODELS

from mmlt.core import CosineLinear, DisAlignCosineLinear, DisAlignLinear
from mmlt.core.classifier_retraining import LWSLinear, RetrainedLinear
from mmlt.core.logit_adjustment import LogitAdjustment, loss_prior_margin
from mmlt.core.tau_norm import TauNormLinear


@MODELS.register_module()
class CosineLinearClsHead(LinearClsHead):
    """``LinearClsHead`` with a cosine classifier:
    ``scale * cos(x, w_j)`` (+ bias if ``bias=True``).

    Args:
        num_classes, in_channels: as ``LinearClsHead``.
        scale: initial value of the scale (DisAlign: 20).
        learnable_scale: learn the scale in stage 1 (it is frozen in stage 2).
        bias: add a per-class bias. Defaults to False.
        **kwargs: ``LinearClsHead`` / ``ClsHead`` arguments (loss, topk, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 scale: float = 20.0,
                 learnable_scale: bool = True,
                 bias: bool = False,
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        # mmpretrain's Normal(layer='Linear', std=0.01) reaches it first;
        # CosineLinear.init_weights then draws unit-norm rows (its doc).
        self.fc = CosineLinear(in_channels, num_classes, bias, scale,
                               learnable_scale)


@MODELS.register_module()
class DisAlignLinearClsHead(LinearClsHead):
    """``LinearClsHead`` whose ``fc`` carries DisAlign's calibration
    (``mmlt.core.DisAlignLinear``): ``fc.weight`` / ``fc.bias`` are the
    frozen stage-1 classifier, ``fc.calibration`` the learnt magnitude,
    margin and confidence.

    Args:
        confidence_std: std of the confidence layer's initial weights.
        start_tau: start the margins at the logit adjustment with this tau
            (``mmlt.core.prior_margin``; the prior from the loss's class
            counts), so stage 2 starts where post-hoc logit adjustment
            ends. None: the paper's identity start (beta = 0).
        init_cfg: None by default: stage 2 loads ``fc`` from the stage-1
            checkpoint. Any ``init_cfg`` leaves the calibration as
            configured (``DisAlignLinear.init_weights`` runs after it).
        **kwargs: ``LinearClsHead`` arguments; ``loss`` is normally
            ``dict(type='GRWKLLoss', ...)``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 confidence_std: float = 0.01,
                 start_tau: Optional[float] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(num_classes, in_channels, init_cfg=init_cfg,
                         **kwargs)
        self.fc = DisAlignLinear(
            in_channels, num_classes, confidence_std=confidence_std,
            initial_margin=loss_prior_margin(self, self.loss_module,
                                             start_tau))


@MODELS.register_module()
class DisAlignCosineLinearClsHead(CosineLinearClsHead):
    """``CosineLinearClsHead`` with DisAlign's calibration ("DisAlign*"); the
    confidence layer sees the L2-normalised feature.

    Args: those of ``CosineLinearClsHead`` and ``DisAlignLinearClsHead``.
    """

    def __init__(self,
                 *args,
                 confidence_std: float = 0.01,
                 start_tau: Optional[float] = None,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(*args, init_cfg=init_cfg, **kwargs)
        cosine = self.fc  # the stage-1 classifier, as configured
        self.fc = DisAlignCosineLinear(
            cosine.in_features, cosine.out_features, cosine.bias is not None,
            cosine.scale.item(), cosine.scale.requires_grad,
            confidence_std=confidence_std,
            initial_margin=loss_prior_margin(self, self.loss_module,
                                             start_tau))


def logit_adjusted_head(head_cls: type) -> type:
    """``LogitAdjusted<Head>``: any mmpretrain ``ClsHead`` whose class scores
    (the output of its ``forward``, which ``predict`` and ``loss`` read)
    pass through post-hoc logit adjustment, ``z - tau * log(prior)``
    (``mmlt.core.LogitAdjustment``, as the head's ``calibration``). Extra
    arguments: ``tau`` (1: Menon et al.'s default; choose it on val with
    ``tools/analysis/choose_tau.py``), ``frequency_file`` / ``class_counts``
    and ``count_kind`` (the training prior), ``target_prior`` (the test
    set's label prior when it is known and not uniform). A stock checkpoint
    loads as it is: the prior is a function of the config."""

    def __init__(self, *args, tau: float = 1.0,
                 frequency_file: Optional[str] = None, class_counts=None,
                 count_kind: Optional[str] = None, target_prior=None,
                 **kwargs):
        head_cls.__init__(self, *args, **kwargs)
        self.calibration = LogitAdjustment(tau, class_counts, frequency_file,
                                           count_kind,
                                           target_prior=target_prior)

    def forward(self, feats):
        return self.calibration(head_cls.forward(self, feats))

    doc = (f'``{head_cls.__name__}`` with post-hoc logit adjustment of its '
           'class scores (see ``mmlt.classification.heads``).')
    return type(f'LogitAdjusted{head_cls.__name__}', (head_cls, ),
                dict(__init__=__init__, forward=forward, __doc__=doc,
                     __module__=__name__))


LogitAdjustedLinearClsHead = MODELS.register_module(
    module=logit_adjusted_head(LinearClsHead))
LogitAdjustedCosineLinearClsHead = MODELS.register_module(
    module=logit_adjusted_head(CosineLinearClsHead))
LogitAdjustedVisionTransformerClsHead = MODELS.register_module(
    module=logit_adjusted_head(VisionTransformerClsHead))


@MODELS.register_module()
class TauNormLinearClsHead(LinearClsHead):
    """``LinearClsHead`` with a tau-normalised ``fc`` (post hoc):
    ``W_j / ||W_j||^tau``, no bias."""

    def __init__(self, num_classes: int, in_channels: int, tau: float = 1.0,
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc = TauNormLinear(in_channels, num_classes, tau=tau)


@MODELS.register_module()
class LWSLinearClsHead(LinearClsHead):
    """``LinearClsHead`` whose stage-1 ``fc`` is kept and whose logits get a
    learnt scale per class (LWS; train with a class-balanced sampler)."""

    def __init__(self, num_classes: int, in_channels: int, **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc = LWSLinear(in_channels, num_classes)


@MODELS.register_module()
class RetrainedLinearClsHead(LinearClsHead):
    """cRT: ``fc.retrained``, a new linear classifier (the head's
    ``init_cfg`` draws it), trained alone with a class-balanced sampler; the
    stage-1 ``fc`` weights stay loaded, frozen and unused."""

    def __init__(self, num_classes: int, in_channels: int, **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fc = RetrainedLinear(in_channels, num_classes)
