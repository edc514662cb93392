"""Stage-2 decode heads: any stock mmseg head that ends in ``cls_seg``.

``disalign_head(FCNHead)`` returns ``DisAlignFCNHead``: the stock head, whose
``conv_seg`` (a 1x1 convolution) is a ``DisAlignConv2d`` instead.
``logit_adjusted_head(FCNHead)`` returns ``LogitAdjustedFCNHead``, whose
``conv_seg`` adjusts its logits post hoc (``z - tau * log(prior)``, the prior
of the frequency file's pixel counts). Everything else, arguments
included, stays the stock head's, so a stage-2 config only changes the
head's ``type`` (and its loss, or its ``frequency_file`` and ``tau``), and a
stock checkpoint loads with only the stage-2 keys new (none for logit
adjustment). The calibration acts on the logits before they are resized.
"""
from typing import Callable, Optional, Tuple

from mmseg.models.decode_heads import (ASPPHead, DepthwiseSeparableASPPHead,
                                       FCNHead, PSPHead, SegformerHead,
                                       UPerHead)
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import nn

from mmlt.core import DisAlignConv2d
from mmlt.core.logit_adjustment import LogitAdjustedConv2d, loss_prior_margin


def _stage2_head(head_cls: type, prefix: str,
                 make_classifier: Callable[..., nn.Module],
                 options: Tuple[str, ...], what: str) -> type:
    """Subclass a ``BaseDecodeHead`` so that ``make_classifier(stock
    conv_seg, head, **options)`` replaces its ``conv_seg``; ``options`` are
    the extra keyword arguments of the new head."""
    if not issubclass(head_cls, BaseDecodeHead):
        raise TypeError(f'{head_cls.__name__} is not an mmseg decode head.')

    def __init__(self, *args, **kwargs):
        own = {k: kwargs.pop(k) for k in options if k in kwargs}
        head_cls.__init__(self, *args, **kwargs)
        stock = self.conv_seg
        if not (isinstance(stock, nn.Conv2d) and stock.kernel_size == (1, 1)
                and stock.groups == 1):
            raise TypeError(
                f'{head_cls.__name__}.conv_seg is {stock}, not the 1x1 '
                f'convolution {prefix} replaces.')
        self.conv_seg = make_classifier(stock, self, **own)

    doc = (f'``{head_cls.__name__}`` with {what} of its ``conv_seg`` '
           f'(see ``mmlt.segmentation.heads``).')
    return type(f'{prefix}{head_cls.__name__}', (head_cls, ), dict(
        __init__=__init__, __doc__=doc, __module__=__name__))


def _disalign_conv_seg(stock: nn.Conv2d, head: BaseDecodeHead,
                       confidence_std: float = 0.01,
                       confidence_relu: bool = False,
                       start_tau: Optional[float] = None) -> DisAlignConv2d:
    return DisAlignConv2d(
        stock.in_channels, stock.out_channels,
        bias=stock.bias is not None, confidence_std=confidence_std,
        # True only to evaluate DisAlign's published mmseg 0.x models
        confidence_relu=confidence_relu,
        initial_margin=loss_prior_margin(head, head.loss_decode, start_tau))


def _logit_adjusted_conv_seg(stock: nn.Conv2d, head: BaseDecodeHead,
                             tau: float = 1.0,
                             frequency_file: Optional[str] = None,
                             class_counts=None,
                             count_kind: Optional[str] = None
                             ) -> LogitAdjustedConv2d:
    return LogitAdjustedConv2d(
        stock.in_channels, stock.out_channels, bias=stock.bias is not None,
        tau=tau, frequency_file=frequency_file, class_counts=class_counts,
        count_kind=count_kind)


def disalign_head(head_cls: type) -> type:
    """``DisAlign<Head>``: ``conv_seg`` with DisAlign's calibration; extra
    arguments ``confidence_std``, ``confidence_relu`` and ``start_tau`` (the
    margins start at the logit adjustment with that tau, the prior of the
    G-RW loss's pixel counts; ``mmlt.core.prior_margin``)."""
    return _stage2_head(head_cls, 'DisAlign', _disalign_conv_seg,
                        ('confidence_std', 'confidence_relu', 'start_tau'),
                        "DisAlign's calibration")


def logit_adjusted_head(head_cls: type) -> type:
    """``LogitAdjusted<Head>``: post-hoc logit adjustment of ``conv_seg``;
    extra arguments ``tau``, ``frequency_file`` / ``class_counts``,
    ``count_kind``."""
    return _stage2_head(head_cls, 'LogitAdjusted', _logit_adjusted_conv_seg,
                        ('tau', 'frequency_file', 'class_counts',
                         'count_kind'), 'post-hoc logit adjustment')


# The stock heads that get a DisAlign and a LogitAdjusted variant here;
# disalign_head() / logit_adjusted_head() make others.
STOCK_HEADS = ('FCNHead', 'ASPPHead', 'DepthwiseSeparableASPPHead', 'PSPHead',
               'UPerHead', 'SegformerHead')
DisAlignFCNHead = disalign_head(FCNHead)
DisAlignASPPHead = disalign_head(ASPPHead)
DisAlignDepthwiseSeparableASPPHead = disalign_head(DepthwiseSeparableASPPHead)
DisAlignPSPHead = disalign_head(PSPHead)
DisAlignUPerHead = disalign_head(UPerHead)
DisAlignSegformerHead = disalign_head(SegformerHead)
LogitAdjustedFCNHead = logit_adjusted_head(FCNHead)
LogitAdjustedASPPHead = logit_adjusted_head(ASPPHead)
LogitAdjustedDepthwiseSeparableASPPHead = logit_adjusted_head(
    DepthwiseSeparableASPPHead)
LogitAdjustedPSPHead = logit_adjusted_head(PSPHead)
LogitAdjustedUPerHead = logit_adjusted_head(UPerHead)
LogitAdjustedSegformerHead = logit_adjusted_head(SegformerHead)

for _head in (DisAlignFCNHead, DisAlignASPPHead,
              DisAlignDepthwiseSeparableASPPHead, DisAlignPSPHead,
              DisAlignUPerHead, DisAlignSegformerHead, LogitAdjustedFCNHead,
              LogitAdjustedASPPHead, LogitAdjustedDepthwiseSeparableASPPHead,
              LogitAdjustedPSPHead, LogitAdjustedUPerHead,
              LogitAdjustedSegformerHead):
    MODELS.register_module(module=_head)
