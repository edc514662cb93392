"""``confidence_std`` reaches the model in every toolbox.

The stock heads' ``init_cfg`` (mmdet: Normal std 0.01 over ``fc_cls``; mmseg:
over ``conv_seg``; mmpretrain: every ``Linear``) runs in ``init_weights()``,
after construction, and would redraw the confidence layer: what a user sets
must be what ``init_weights()`` leaves.
"""
import pytest
import torch

from mmlt.core import calibration_modules

IN_CHANNELS = 4096  # enough weights for a sharp estimate of their std


def build_mmdet(std):
    import mmlt.detection  # noqa: F401
    from mmdet.registry import MODELS
    return MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=4, fc_out_channels=IN_CHANNELS,
        roi_feat_size=1, num_classes=3,
        cls_predictor_cfg=dict(type='DisAlignLinear', confidence_std=std)))


def build_mmseg(std):
    import mmlt.segmentation  # noqa: F401
    from mmseg.registry import MODELS
    return MODELS.build(dict(
        type='DisAlignFCNHead', in_channels=4, channels=IN_CHANNELS,
        num_convs=1, num_classes=3, norm_cfg=dict(type='BN'),
        confidence_std=std))


def build_mmpretrain(std):
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(
        type='DisAlignLinearClsHead', num_classes=3, in_channels=IN_CHANNELS,
        confidence_std=std,
        # the stock LinearClsHead's init, which reaches every Linear
        init_cfg=dict(type='Normal', layer='Linear', std=0.01)))


@pytest.mark.parametrize('build', [build_mmdet, build_mmseg, build_mmpretrain])
@pytest.mark.parametrize('std', [0.01, 0.3])
def test_confidence_std_survives_init_weights(build, std):
    torch.manual_seed(0)
    head = build(std)
    head.init_weights()
    (_, calib), = calibration_modules(head)
    weight = calib.confidence.weight
    assert weight.std().item() == pytest.approx(std, rel=0.05)
    assert torch.all(calib.confidence.bias == 0)
    # and the calibration is the identity
    assert torch.all(calib.magnitude == 1) and torch.all(calib.margin == 0)
