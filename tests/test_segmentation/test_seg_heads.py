"""DisAlign decode heads: one mechanism for every stock head that ends in
``cls_seg``; a stock checkpoint loads with only calibration keys new and the
calibrated head starts as the stock head, bit for bit."""
import pytest
import torch

import mmlt.segmentation  # noqa: F401
from mmseg.registry import MODELS

from mmlt.segmentation import disalign_head

BN = dict(type='BN')
SINGLE = [torch.randn(2, 16, 8, 8)]
PYRAMID = [torch.randn(2, c, s, s) for c, s in ((8, 16), (8, 8), (16, 4),
                                                (16, 4))]
HEADS = {
    'FCNHead': (dict(in_channels=16, channels=8, num_convs=1), SINGLE),
    'ASPPHead': (dict(in_channels=16, channels=8, dilations=(1, 2)), SINGLE),
    'DepthwiseSeparableASPPHead':
    (dict(in_channels=16, in_index=3, channels=8, dilations=(1, 2),
          c1_in_channels=8, c1_channels=4), PYRAMID),
    'PSPHead': (dict(in_channels=16, channels=8, pool_scales=(1, 2)),
                SINGLE),
    'UPerHead': (dict(in_channels=[8, 8, 16, 16], in_index=[0, 1, 2, 3],
                      channels=8, pool_scales=(1, 2)), PYRAMID),
    'SegformerHead': (dict(in_channels=[8, 8, 16, 16], in_index=[0, 1, 2, 3],
                           channels=8), PYRAMID),
}


@pytest.mark.parametrize('stock_type', list(HEADS))
def test_stock_checkpoint_loads_and_output_is_unchanged(stock_type):
    kwargs, inputs = HEADS[stock_type]
    cfg = dict(kwargs, num_classes=5, norm_cfg=BN)
    torch.manual_seed(0)
    stock = MODELS.build(dict(cfg, type=stock_type))
    stock.init_weights()
    calibrated = MODELS.build(dict(cfg, type=f'DisAlign{stock_type}'))
    assert isinstance(calibrated, type(stock))
    missing, unexpected = calibrated.load_state_dict(
        stock.state_dict(), strict=False)
    assert unexpected == []
    assert sorted(missing) == [
        'conv_seg.calibration.confidence.bias',
        'conv_seg.calibration.confidence.weight',
        'conv_seg.calibration.magnitude', 'conv_seg.calibration.margin'
    ]
    stock.eval()
    calibrated.eval()
    with torch.no_grad():
        assert torch.equal(calibrated(inputs), stock(inputs))
        # and calibration acts on the logits once it moves
        calibrated.conv_seg.calibration.margin.fill_(1.0)
        assert not torch.equal(calibrated(inputs), stock(inputs))


def test_disalign_head_rejects_other_classes():
    with pytest.raises(TypeError, match='not an mmseg decode head'):
        disalign_head(torch.nn.Linear)
