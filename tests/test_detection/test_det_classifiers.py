"""DisAlign's RoI classifiers inside mmdet's stock ConvFC bbox heads, built
through ``cls_predictor_cfg`` (no training: see test_det_train.py)."""
import pytest
import torch
import torch.nn.functional as F

import mmlt.detection  # noqa: F401  (registers the classifiers)
from mmlt.core import AdaptiveCalibration
from mmlt.stage2 import check_stage1_state_dict

NUM_CLASSES = 5
ROI = 3  # RoI feature size, small for speed

# The stock ConvFC heads: shared fcs (Faster / Mask / each Cascade stage),
# shared convs + fc, and separate cls / reg branches (the classifier's input
# is then the cls branch's own feature, not the shared one).
HEADS = [
    dict(type='Shared2FCBBoxHead', fc_out_channels=16),
    dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=8,
         fc_out_channels=16),
    dict(type='ConvFCBBoxHead', num_shared_fcs=1, num_cls_fcs=1,
         num_reg_fcs=1, fc_out_channels=16),
]


def build_head(head, classifier=None, loss_cls=None):
    from mmdet.registry import MODELS
    cfg = dict(head, in_channels=4, roi_feat_size=ROI, num_classes=NUM_CLASSES)
    if classifier is not None:
        cfg['cls_predictor_cfg'] = dict(type=classifier)
    if loss_cls is not None:
        cfg['loss_cls'] = loss_cls
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def stock_and_calibrated(head, cosine=False):
    stock = build_head(head, 'CosineLinear' if cosine else None)
    calibrated = build_head(
        head, 'DisAlignCosineLinear' if cosine else 'DisAlignLinear')
    missing, unexpected = calibrated.load_state_dict(
        stock.state_dict(), strict=False)
    assert missing and all('fc_cls.calibration.' in k for k in missing)
    assert not unexpected
    return stock, calibrated


def randomize_calibration(model):
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, AdaptiveCalibration):
                for param in module.parameters():
                    param.copy_(torch.randn(param.shape, generator=gen))


def test_registered_in_mmdet():
    from mmdet.registry import MODELS
    for name in ('DisAlignLinear', 'DisAlignCosineLinear', 'CosineLinear',
                 'GRWKLLoss'):
        assert MODELS.get(name) is not None, name


@pytest.mark.parametrize('cosine', [False, True])
@pytest.mark.parametrize('head', HEADS, ids=lambda h: h['type'])
def test_background_is_not_calibrated(head, cosine):
    stock, calibrated = stock_and_calibrated(head, cosine)
    fc = calibrated.fc_cls
    # num_classes + 1 outputs, the calibration over the foreground ones
    assert fc.out_features == NUM_CLASSES + 1
    assert fc.calibration.num_classes == NUM_CLASSES
    assert fc.calibration.num_uncalibrated == 1
    # mmdet's init_cfg (Normal, override fc_cls) keeps the identity init
    assert torch.equal(fc.calibration.magnitude, torch.ones(NUM_CLASSES))
    assert torch.equal(fc.calibration.margin, torch.zeros(NUM_CLASSES))
    if cosine:
        assert float(fc.scale) == 20.0 and fc.scale.requires_grad
        assert fc.bias is None


@pytest.mark.parametrize('cosine', [False, True])
@pytest.mark.parametrize('head', HEADS, ids=lambda h: h['type'])
def test_identity_at_init_and_background_untouched(head, cosine):
    stock, calibrated = stock_and_calibrated(head, cosine)
    rois = torch.randn(7, 4, ROI, ROI)
    with torch.no_grad():
        cls_stock, reg_stock = stock(rois)
        cls_init, reg_init = calibrated(rois)
        # at init the calibrated classifier is the stage-1 one, bit for bit
        assert torch.equal(cls_init, cls_stock)
        assert torch.equal(reg_init, reg_stock)
        randomize_calibration(calibrated)
        cls_cal, reg_cal = calibrated(rois)
    assert torch.equal(cls_cal[:, -1], cls_stock[:, -1])
    assert not torch.allclose(cls_cal[:, :-1], cls_stock[:, :-1])
    assert torch.equal(reg_cal, reg_stock)


@pytest.mark.parametrize('cosine', [False, True])
def test_confidence_reads_the_classifier_input(cosine):
    """eq. 5 on the feature that feeds fc_cls (the cls branch's own fc)."""
    _, head = stock_and_calibrated(HEADS[2], cosine)
    randomize_calibration(head)
    seen = {}
    head.fc_cls.register_forward_hook(
        lambda m, args, out: seen.update(x=args[0], out=out))
    with torch.no_grad():
        head(torch.randn(6, 4, ROI, ROI))
        fc, cal = head.fc_cls, head.fc_cls.calibration
        x = seen['x']
        if cosine:
            z = fc.scale * F.linear(F.normalize(x, dim=1),
                                    F.normalize(fc.weight, dim=1))
            x = F.normalize(x, dim=1)
        else:
            z = F.linear(x, fc.weight, fc.bias)
        sigma = torch.sigmoid(x @ cal.confidence.weight.T + cal.confidence.bias)
        fg = z[:, :-1]
        expected = sigma * (cal.magnitude * fg + cal.margin) + (1 - sigma) * fg
    assert x.shape[1] == 16  # the cls branch's fc output, not the RoI map
    assert torch.allclose(seen['out'][:, :-1], expected, atol=1e-5)
    assert torch.allclose(seen['out'][:, -1], z[:, -1], atol=1e-6)


@pytest.mark.parametrize('cosine', [False, True])
def test_stock_checkpoint_loads_with_only_calibration_new(cosine):
    stock, calibrated = stock_and_calibrated(HEADS[0], cosine)
    new, unexpected = check_stage1_state_dict(calibrated, stock.state_dict())
    assert sorted(new) == [
        'fc_cls.calibration.confidence.bias',
        'fc_cls.calibration.confidence.weight',
        'fc_cls.calibration.magnitude', 'fc_cls.calibration.margin'
    ]
    assert unexpected == []


def test_cosine_stage2_refuses_a_dot_product_stage1():
    stock = build_head(HEADS[0])  # fc_cls: nn.Linear, no scale
    calibrated = build_head(HEADS[0], 'DisAlignCosineLinear')
    with pytest.raises(ValueError, match='fc_cls.scale'):
        check_stage1_state_dict(calibrated, stock.state_dict())


def test_grw_loss_in_the_bbox_head_trains_the_calibration_only():
    counts = [50, 20, 8, 3, 1]
    head = build_head(
        HEADS[0], 'DisAlignLinear',
        loss_cls=dict(type='GRWKLLoss', class_counts=counts, rho=0.8))
    assert head.loss_cls.background and head.loss_cls.class_weights[-1] == 1
    for name, param in head.named_parameters():
        param.requires_grad = 'calibration' in name
    head.train()
    cls_score, bbox_pred = head(torch.randn(6, 4, ROI, ROI))
    labels = torch.tensor([0, 1, 4, 5, 5, 2])  # 5 = background
    losses = head.loss(cls_score, bbox_pred, torch.rand(6, 5) * 10, labels,
                       torch.ones(6), torch.zeros(6, 4), torch.zeros(6, 4))
    losses['loss_cls'].backward()
    grads = {n: p.grad for n, p in head.named_parameters()}
    assert all(g is None for n, g in grads.items() if 'calibration' not in n)
    assert grads['fc_cls.calibration.margin'].abs().sum() > 0
