"""Stage-2 decode heads: any stock mmseg head that ends in ``cls_seg``.

``DisAlignFCNHead`` is the stock ``FCNHead`` whose ``conv_seg`` (a 1x1
convolution) is a ``DisAlignConv2d`` instead (the mixin
``DisAlignConvSeg``); ``LogitAdjustedFCNHead``'s ``conv_seg`` adjusts its
logits post hoc (``z - tau * log(prior)``, the prior of the frequency file's
pixel counts; ``LogitAdjustedConvSeg``). Six stock heads are written out
below; ``disalign_head()`` / ``logit_adjusted_head()`` make the variant of
any other. Everything else, arguments
included, stays the stock head's, so a stage-2 config only changes the
head's ``type`` (and its loss, or its ``frequency_file`` and ``tau``), and a
stock checkpoint loads with only the stage-2 keys new (none for logit
adjustment). The calibration acts on the logits before they are resized.
"""
from typing import Optional

from mmseg.models.decode_heads import (ASPPHead, DepthwiseSeparableASPPHead,
                                       FCNHead, PSPHead, SegformerHead,
                                       UPerHead)
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import nn

from mmlt.core import DisAlignConv2d
from mmlt.core.logit_adjustment import LogitAdjustedConv2d, loss_prior_margin


class _ReplacesConvSeg:
    """Mixin of a stage-2 head: the stock head's ``conv_seg`` (a 1x1
    convolution) is replaced once the stock ``__init__`` has built it."""

    def _replace_conv_seg(self, classifier: type, **options) -> None:
        """``conv_seg`` becomes a ``classifier`` of the same shape."""
        stock = self.conv_seg
        if not (isinstance(stock, nn.Conv2d) and stock.kernel_size == (1, 1)
                and stock.groups == 1):
            raise TypeError(
                f'{type(self).__name__}: conv_seg is {stock}, not the 1x1 '
                'convolution a stage-2 head replaces.')
        self.conv_seg = classifier(stock.in_channels, stock.out_channels,
                                   bias=stock.bias is not None, **options)


class DisAlignConvSeg(_ReplacesConvSeg):
    """``conv_seg`` with DisAlign's calibration (``DisAlignConv2d``).

    Args:
        confidence_std: init std of the confidence layer's weights.
        confidence_relu: the ReLU of the published mmseg 0.x models (only
            to evaluate them).
        start_tau: the margins start at the logit adjustment with that tau,
            the prior of the G-RW loss's pixel counts
            (``mmlt.core.prior_margin``); None: at 0.
    """

    def __init__(self, *args, confidence_std: float = 0.01,
                 confidence_relu: bool = False,
                 start_tau: Optional[float] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._replace_conv_seg(
            DisAlignConv2d, confidence_std=confidence_std,
            confidence_relu=confidence_relu,
            initial_margin=loss_prior_margin(self, self.loss_decode,
                                             start_tau))


class LogitAdjustedConvSeg(_ReplacesConvSeg):
    """``conv_seg`` with post-hoc logit adjustment
    (``LogitAdjustedConv2d``): ``tau``, ``frequency_file`` /
    ``class_counts`` and ``count_kind`` give the prior."""

    def __init__(self, *args, tau: float = 1.0,
                 frequency_file: Optional[str] = None, class_counts=None,
                 count_kind: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._replace_conv_seg(
            LogitAdjustedConv2d, tau=tau, frequency_file=frequency_file,
            class_counts=class_counts, count_kind=count_kind)


def _variant(mixin: type, head_cls: type) -> type:
    if not issubclass(head_cls, BaseDecodeHead):
        raise TypeError(f'{head_cls.__name__} is not an mmseg decode head.')
    prefix = mixin.__name__[:-len('ConvSeg')]
    return type(f'{prefix}{head_cls.__name__}', (mixin, head_cls), dict(
        __doc__=f'``{head_cls.__name__}`` with ``{mixin.__name__}``.',
        __module__=__name__))


def disalign_head(head_cls: type) -> type:
    """``DisAlign<Head>`` of another mmseg decode head (those below are
    written out): ``DisAlignConvSeg`` on ``head_cls``."""
    return _variant(DisAlignConvSeg, head_cls)


def logit_adjusted_head(head_cls: type) -> type:
    """``LogitAdjusted<Head>`` of another mmseg decode head:
    ``LogitAdjustedConvSeg`` on ``head_cls``."""
    return _variant(LogitAdjustedConvSeg, head_cls)


@MODELS.register_module()
class DisAlignFCNHead(DisAlignConvSeg, FCNHead):
    """``FCNHead`` with DisAlign's calibration of its ``conv_seg``."""


@MODELS.register_module()
class DisAlignASPPHead(DisAlignConvSeg, ASPPHead):
    """``ASPPHead`` (DeepLabV3) with DisAlign's calibration."""


@MODELS.register_module()
class DisAlignDepthwiseSeparableASPPHead(
        DisAlignConvSeg, DepthwiseSeparableASPPHead):
    """``DepthwiseSeparableASPPHead`` (DeepLabV3+) with DisAlign's
    calibration."""


@MODELS.register_module()
class DisAlignPSPHead(DisAlignConvSeg, PSPHead):
    """``PSPHead`` with DisAlign's calibration."""


@MODELS.register_module()
class DisAlignUPerHead(DisAlignConvSeg, UPerHead):
    """``UPerHead`` with DisAlign's calibration."""


@MODELS.register_module()
class DisAlignSegformerHead(DisAlignConvSeg, SegformerHead):
    """``SegformerHead`` with DisAlign's calibration."""


@MODELS.register_module()
class LogitAdjustedFCNHead(LogitAdjustedConvSeg, FCNHead):
    """``FCNHead`` with post-hoc logit adjustment of its ``conv_seg``."""


@MODELS.register_module()
class LogitAdjustedASPPHead(LogitAdjustedConvSeg, ASPPHead):
    """``ASPPHead`` with post-hoc logit adjustment."""


@MODELS.register_module()
class LogitAdjustedDepthwiseSeparableASPPHead(
        LogitAdjustedConvSeg, DepthwiseSeparableASPPHead):
    """``DepthwiseSeparableASPPHead`` with post-hoc logit adjustment."""


@MODELS.register_module()
class LogitAdjustedPSPHead(LogitAdjustedConvSeg, PSPHead):
    """``PSPHead`` with post-hoc logit adjustment."""


@MODELS.register_module()
class LogitAdjustedUPerHead(LogitAdjustedConvSeg, UPerHead):
    """``UPerHead`` with post-hoc logit adjustment."""


@MODELS.register_module()
class LogitAdjustedSegformerHead(LogitAdjustedConvSeg, SegformerHead):
    """``SegformerHead`` with post-hoc logit adjustment."""


# the stock heads written out above
STOCK_HEADS = ('FCNHead', 'ASPPHead', 'DepthwiseSeparableASPPHead', 'PSPHead',
               'UPerHead', 'SegformerHead')
