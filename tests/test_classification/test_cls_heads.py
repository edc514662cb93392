"""The mmpretrain heads and backbone of mmlt.classification: stock
checkpoints load with only the calibration new, the calibrated head starts
as the stock one bit for bit, soft targets reach the G-RW loss."""
import pytest
import torch
import torch.nn.functional as F

import mmlt.classification  # noqa: F401
from mmlt.core import grw_weights
from mmlt.stage2 import check_stage1_state_dict

CALIBRATION = ['fc.calibration.magnitude', 'fc.calibration.margin',
               'fc.calibration.confidence.weight',
               'fc.calibration.confidence.bias']


def build(cfg):
    from mmpretrain.registry import MODELS
    return MODELS.build(cfg)


@pytest.mark.parametrize('stock_type, calibrated_type', [
    ('LinearClsHead', 'DisAlignLinearClsHead'),
    ('CosineLinearClsHead', 'DisAlignCosineLinearClsHead'),
])
def test_stock_head_loads_with_only_calibration_new_and_same_logits(
        stock_type, calibrated_type):
    torch.manual_seed(0)
    stock = build(dict(type=stock_type, num_classes=7, in_channels=16))
    stock.init_weights()
    if stock_type == 'CosineLinearClsHead':
        with torch.no_grad():
            stock.fc.scale.fill_(13.5)  # a learnt scale must carry over
    calibrated = build(dict(type=calibrated_type, num_classes=7,
                            in_channels=16))
    calibrated.init_weights()
    result = calibrated.load_state_dict(stock.state_dict(), strict=False)
    assert sorted(result.missing_keys) == sorted(CALIBRATION)
    assert result.unexpected_keys == []
    feats = (torch.randn(5, 16).abs(), )
    # alpha = 1, beta = 0: exactly the stock logits, whatever sigma is
    assert torch.equal(calibrated(feats), stock(feats))
    sigma = calibrated.fc.calibration.sigma(feats[0])
    assert ((sigma > 0.3) & (sigma < 0.7)).all()  # not saturated at init


def test_cosine_head_is_a_scaled_cosine():
    head = build(dict(type='CosineLinearClsHead', num_classes=3,
                      in_channels=4))
    x = torch.randn(2, 4)
    expected = 20 * F.normalize(x, dim=1) @ F.normalize(head.fc.weight,
                                                        dim=1).t()
    assert torch.allclose(head((x, )), expected, atol=1e-5)
    assert head.fc.bias is None and head.fc.scale.requires_grad


@pytest.mark.parametrize('head_type', [
    'CosineLinearClsHead', 'DisAlignCosineLinearClsHead'])
def test_cosine_head_options_reach_its_classifier(head_type):
    head = build(dict(type=head_type, num_classes=3, in_channels=4,
                      scale=7.0, learnable_scale=False, bias=True))
    assert head.fc.scale.item() == 7.0
    assert not head.fc.scale.requires_grad
    assert head.fc.bias is not None and head.fc.bias.shape == (3, )
    assert head.fc.weight.shape == (3, 4)
    if head_type.startswith('DisAlign'):
        assert head.fc.calibration.margin.shape == (3, )


@pytest.mark.parametrize('stage1, stage2', [
    ('LinearClsHead', 'DisAlignLinearClsHead'),
    ('CosineLinearClsHead', 'DisAlignCosineLinearClsHead'),
])
def test_classifier_checkpoint_check_reports_only_calibration(stage1, stage2):
    def classifier(head):
        return build(dict(
            type='ImageClassifier',
            backbone=dict(type='CifarResNet', depth=8),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type=head, num_classes=5, in_channels=64,
                      loss=dict(type='GRWKLLoss', class_counts=[5, 4, 3, 2,
                                                                1]))))

    new, unexpected = check_stage1_state_dict(classifier(stage2),
                                              classifier(stage1).state_dict())
    assert sorted(new) == sorted(f'head.{k}' for k in CALIBRATION)
    assert unexpected == []


def test_soft_targets_reach_grw_loss():
    from mmpretrain.structures import DataSample
    counts = [9, 3, 1]
    head = build(dict(type='DisAlignLinearClsHead', num_classes=3,
                      in_channels=4,
                      loss=dict(type='GRWKLLoss', class_counts=counts,
                                rho=1.0)))
    feats = (torch.randn(2, 4), )
    targets = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6]])
    samples = [DataSample().set_gt_label(0).set_gt_score(t) for t in targets]
    loss = head.loss(feats, samples)['loss']
    w = grw_weights(counts, 1.0)
    # the weighted mean: sum_ic w_c t_ic l_ic / sum_ic w_c t_ic
    expected = -(w * targets * F.log_softmax(head(feats), 1)).sum() / (
        w * targets).sum()
    assert torch.allclose(loss, expected)


def test_cifar_resnet_depths():
    net = build(dict(type='CifarResNet', depth=32))
    assert net.stage_blocks == (5, 5, 5)
    assert sum(p.numel() for p in net.parameters()) == 466256
    out = net(torch.randn(2, 3, 32, 32))
    assert len(out) == 1 and out[0].shape == (2, 64, 8, 8)
    assert build(dict(type='CifarResNet', depth=8)).stage_blocks == (1, 1, 1)
    with pytest.raises(KeyError, match='6n \\+ 2'):
        build(dict(type='CifarResNet', depth=18))
