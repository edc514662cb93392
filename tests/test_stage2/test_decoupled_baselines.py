"""The decoupled baselines as components: logit adjustment and
tau-normalisation (post hoc), LWS and cRT (trained alone with class-balanced
sampling). Hand-computed values; stock checkpoints load into them; in the
toolboxes' heads they change only their own logits (not mmdet's
background)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmlt.core.classifier_retraining import (LogitScaling, LWSLinear,
                                             RetrainedLinear)
from mmlt.core.logit_adjustment import (LogitAdjustedConv2d,
                                        LogitAdjustedLinear, LogitAdjustment,
                                        log_prior)
from mmlt.core.tau_norm import TauNormLinear
from mmlt.stage2 import is_stage2_key


def test_logit_adjustment_subtracts_tau_log_prior():
    la = LogitAdjustment(tau=0.5, class_counts=[6, 3, 1])
    out = la(torch.zeros(2, 3))
    expected = [-0.5 * math.log(p) for p in (0.6, 0.3, 0.1)]
    assert out[0].tolist() == pytest.approx(expected, abs=1e-6)
    # trailing (background) logits pass through unchanged
    la_bg = LogitAdjustment(tau=1.0, class_counts=[6, 3, 1],
                            num_uncalibrated=1)
    logits = torch.tensor([[1.0, 2.0, 3.0, 7.0]])
    out = la_bg(logits)
    assert out[0, 3].item() == 7.0
    assert out[0, :3].tolist() == pytest.approx(
        [1 - math.log(0.6), 2 - math.log(0.3), 3 - math.log(0.1)], abs=1e-6)
    with pytest.raises(ValueError, match='outputs 3'):
        la_bg(torch.zeros(1, 3))


def test_unseen_class_gets_the_rarest_prior():
    # counted as 2 (the rarest seen count), then normalised: 8 / 12, 2 / 12
    assert log_prior(torch.tensor([8., 2., 0.])).tolist() == pytest.approx(
        [math.log(8 / 12), math.log(2 / 12), math.log(2 / 12)])


def test_tau_norm_hand_values():
    fc = TauNormLinear(2, 3, tau=1.0, num_uncalibrated=1)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[3., 4.], [0., 2.], [1., 0.]]))
        fc.bias.copy_(torch.tensor([1., 2., 3.]))
    x = torch.tensor([[1.0, 1.0]])
    # rows 0, 1 unit-normalised without bias; the background row as it was
    assert fc(x)[0].tolist() == pytest.approx([7 / 5, 1.0, 4.0])
    fc.calibration.tau = 0.5
    assert fc(x)[0].tolist() == pytest.approx(
        [7 / math.sqrt(5), 2 / math.sqrt(2), 4.0])
    fc.calibration.tau = 0.0  # the stage-1 weights, bias dropped
    assert fc(x)[0].tolist() == pytest.approx([7.0, 2.0, 4.0])


def test_lws_starts_at_the_stage1_logits_and_scales_per_class():
    fc = LWSLinear(4, 3)
    x = torch.randn(5, 4)
    assert torch.equal(fc(x), F.linear(x, fc.weight, fc.bias))
    with torch.no_grad():
        fc.calibration.scale.copy_(torch.tensor([1.0, 2.0, 0.5]))
    assert torch.allclose(fc(x), F.linear(x, fc.weight, fc.bias) *
                          torch.tensor([1.0, 2.0, 0.5]))
    scaling = LogitScaling(2, num_uncalibrated=1)
    with torch.no_grad():
        scaling.scale.fill_(3.0)
    assert scaling(torch.ones(1, 3)).tolist() == [[3.0, 3.0, 1.0]]


def test_crt_predicts_with_the_new_classifier_only():
    fc = RetrainedLinear(4, 3)
    x = torch.randn(5, 4)
    assert torch.equal(fc(x), fc.retrained(x))
    assert not torch.equal(fc(x), F.linear(x, fc.weight, fc.bias))


@pytest.mark.parametrize('make, new_keys', [
    (lambda: LogitAdjustedLinear(4, 3, class_counts=[3, 2, 1]), []),
    (lambda: TauNormLinear(4, 3), []),
    (lambda: LWSLinear(4, 3), ['calibration.scale']),
    (lambda: RetrainedLinear(4, 3), ['retrained.bias', 'retrained.weight']),
])
def test_stock_classifier_weights_load_with_only_own_keys_new(make, new_keys):
    stock = nn.Linear(4, 3)
    missing, unexpected = make().load_state_dict(stock.state_dict(),
                                                 strict=False)
    assert sorted(missing) == new_keys and not unexpected
    assert all(is_stage2_key(k) for k in missing)


def test_logit_adjusted_conv_adjusts_every_pixel():
    conv = LogitAdjustedConv2d(4, 3, class_counts=[5, 3, 2], tau=1.0)
    x = torch.randn(2, 4, 3, 3)
    stock = F.conv2d(x, conv.weight, conv.bias)
    offset = -torch.log(torch.tensor([0.5, 0.3, 0.2])).view(1, 3, 1, 1)
    assert torch.allclose(conv(x), stock + offset, atol=1e-6)


def test_mmdet_heads_leave_the_background_logit_alone():
    import mmlt.detection  # noqa: F401
    from mmdet.registry import MODELS
    cfg = dict(type='Shared2FCBBoxHead', fc_out_channels=16, in_channels=4,
               roi_feat_size=3, num_classes=3)
    torch.manual_seed(0)
    stock = MODELS.build(cfg)
    stock.init_weights()
    x = torch.randn(6, 4, 3, 3)
    with torch.no_grad():
        stock.fc_cls.bias.normal_()
        z, _ = stock(x)
    for predictor in (dict(type='LogitAdjustedLinear', tau=1.0,
                           class_counts=[5, 3, 2]),
                      dict(type='TauNormLinear', tau=1.0)):
        head = MODELS.build(dict(cfg, cls_predictor_cfg=predictor))
        head.load_state_dict(stock.state_dict(), strict=False)
        with torch.no_grad():
            out, _ = head.eval()(x)
        assert torch.equal(out[:, 3], z[:, 3]), predictor['type']
        assert not torch.allclose(out[:, :3], z[:, :3]), predictor['type']
    la = MODELS.build(dict(cfg, cls_predictor_cfg=dict(
        type='LogitAdjustedLinear', tau=1.0, class_counts=[5, 3, 2])))
    la.load_state_dict(stock.state_dict(), strict=False)
    with torch.no_grad():
        out, _ = la.eval()(x)
    assert torch.allclose(
        out[:, :3], z[:, :3] - torch.log(torch.tensor([0.5, 0.3, 0.2])),
        atol=1e-5)


def test_mmseg_logit_adjusted_head_from_a_stock_checkpoint():
    import mmlt.segmentation  # noqa: F401
    from mmseg.registry import MODELS
    cfg = dict(in_channels=16, channels=8, num_convs=1, num_classes=3,
               norm_cfg=dict(type='BN'))
    torch.manual_seed(0)
    stock = MODELS.build(dict(cfg, type='FCNHead'))
    stock.init_weights()
    head = MODELS.build(dict(cfg, type='LogitAdjustedFCNHead', tau=2.0,
                             class_counts=[70, 20, 10]))
    # the prior is a function of the config: nothing new in the state dict
    head.load_state_dict(stock.state_dict(), strict=True)
    inputs = [torch.randn(2, 16, 8, 8)]
    with torch.no_grad():
        z = stock.eval()(inputs)
        out = head.eval()(inputs)
    offset = -2.0 * torch.log(torch.tensor([0.7, 0.2, 0.1])).view(1, 3, 1, 1)
    assert torch.allclose(out, z + offset, atol=1e-5)


def test_mmpretrain_heads_build_and_load_a_linear_head():
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    stock = MODELS.build(dict(type='LinearClsHead', num_classes=3,
                              in_channels=4))
    x = (torch.randn(5, 4), )
    for head_cfg, new in (
            (dict(type='LogitAdjustedLinearClsHead', class_counts=[3, 2, 1],
                  tau=1.0), []),
            (dict(type='TauNormLinearClsHead', tau=1.0), []),
            (dict(type='LWSLinearClsHead'), ['fc.calibration.scale']),
            (dict(type='RetrainedLinearClsHead'),
             ['fc.retrained.bias', 'fc.retrained.weight'])):
        head = MODELS.build(dict(head_cfg, num_classes=3, in_channels=4))
        head.init_weights()
        missing, unexpected = head.load_state_dict(stock.state_dict(),
                                                   strict=False)
        assert sorted(missing) == new and not unexpected, head_cfg['type']
        assert head(x).shape == (5, 3)


def test_ade20k_logit_adjustment_config_fits_the_stock_fcn():
    import mmlt.segmentation  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from tiny_runs import REPO
    cfg = Config.fromfile(str(
        REPO / 'configs/ade20k/fcn_r50-d8_logit-adjustment_ade20k-512x512.py'))
    assert cfg.runner_type == 'DisAlignRunner'
    assert cfg.test_evaluator.type == 'LongTailIoUMetric'
    head = cfg.model.decode_head.copy()
    assert head.type == 'LogitAdjustedFCNHead' and head.tau == 1.0
    head.pop('frequency_file')  # ADE20K is not here: 150 inline counts
    head.class_counts = list(range(150, 0, -1))
    init_default_scope('mmseg')
    stock = MODELS.build({k: v for k, v in head.items()
                          if k not in ('class_counts', 'tau')} |
                         dict(type='FCNHead'))
    adjusted = MODELS.build(head)
    adjusted.load_state_dict(stock.state_dict(), strict=True)


def test_logit_adjustment_to_a_known_test_prior():
    """z - tau * log(pi) + tau * log(t): a test set whose prior is the
    reverse of training's turns equal logits towards the rare class."""
    from mmlt.core.logit_adjustment import LogitAdjustment
    zeros = torch.zeros(1, 2)
    balanced = LogitAdjustment(class_counts=[9, 1])(zeros)
    shifted = LogitAdjustment(class_counts=[9, 1], target_prior=[1, 9])(zeros)
    assert torch.allclose(balanced, -torch.tensor([[0.9, 0.1]]).log())
    assert torch.allclose(shifted, torch.tensor(
        [[math.log(0.1 / 0.9), math.log(0.9 / 0.1)]]))
    with pytest.raises(ValueError, match='one value >= 0 per class'):
        LogitAdjustment(class_counts=[9, 1], target_prior=[1, 2, 3])
