"""DisAlign decode heads: any stock mmseg head that ends in ``cls_seg``.

``disalign_head(FCNHead)`` returns ``DisAlignFCNHead``: the stock head, whose
``conv_seg`` (a 1x1 convolution) is a ``DisAlignConv2d`` instead. Everything
else, arguments included, stays the stock head's, so a stage-2 config only
changes the head's ``type`` (and its loss), and a stock checkpoint loads with
only the ``conv_seg.calibration.*`` keys new. The calibration acts on the
logits before they are resized, with a per-pixel confidence from the
feature that feeds ``conv_seg``.
"""
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from torch import nn

from mmlt.core import DisAlignConv2d

# The heads registered as DisAlign<Name>; disalign_head() makes others.
STOCK_HEADS = ('FCNHead', 'ASPPHead', 'DepthwiseSeparableASPPHead', 'PSPHead',
               'UPerHead', 'SegformerHead')


def disalign_head(head_cls: type) -> type:
    """Subclass a ``BaseDecodeHead`` so its ``conv_seg`` is calibrated."""
    if not issubclass(head_cls, BaseDecodeHead):
        raise TypeError(f'{head_cls.__name__} is not an mmseg decode head.')

    def __init__(self, *args, confidence_std: float = 0.01,
                 confidence_relu: bool = False, **kwargs):
        head_cls.__init__(self, *args, **kwargs)
        stock = self.conv_seg
        if not (isinstance(stock, nn.Conv2d) and stock.kernel_size == (1, 1)
                and stock.groups == 1):
            raise TypeError(
                f'{head_cls.__name__}.conv_seg is {stock}, not the 1x1 '
                'convolution DisAlign calibrates.')
        self.conv_seg = DisAlignConv2d(
            stock.in_channels,
            stock.out_channels,
            bias=stock.bias is not None,
            confidence_std=confidence_std,
            # True only to evaluate DisAlign's published mmseg 0.x models
            confidence_relu=confidence_relu)

    name = f'DisAlign{head_cls.__name__}'
    doc = (f'``{head_cls.__name__}`` with DisAlign\'s calibration of its '
           f'``conv_seg`` (see ``mmlt.segmentation.heads``).')
    return type(name, (head_cls, ), dict(
        __init__=__init__, __doc__=doc, __module__=__name__))


for _stock in STOCK_HEADS:
    _head = disalign_head(MODELS.get(_stock))
    globals()[_head.__name__] = _head
    MODELS.register_module(module=_head)
