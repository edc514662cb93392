"""``GRWKLLoss`` built from each toolbox's registry and called the way that
toolbox's stock heads call their losses."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

COUNTS = [400, 120, 30, 8, 2]  # a long-tailed profile
RHO = 1.2


def public_grw_class_weight(counts, rho):
    """DisAlign's public code: ``C * (1/r)^rho / sum (1/r)^rho``, restated
    here independently of mmlt."""
    inv = 1.0 / np.asarray(counts, dtype=np.float64)**rho
    return torch.tensor(len(counts) * inv / inv.sum(), dtype=torch.float32)


def build_mmdet_head(loss_cls):
    import mmlt.detection  # noqa: F401
    from mmdet.registry import MODELS
    return MODELS.build(
        dict(type='Shared2FCBBoxHead', in_channels=4, fc_out_channels=8,
             roi_feat_size=2, num_classes=len(COUNTS), loss_cls=loss_cls))


def mmdet_loss_cls(head, cls_score, labels, label_weights):
    n = cls_score.size(0)
    return head.loss(cls_score, torch.zeros(n, 4 * len(COUNTS)),
                     torch.zeros(n, 5), labels, label_weights,
                     torch.zeros(n, 4), torch.zeros(n, 4))['loss_cls']


@pytest.mark.parametrize('rho', [0.0, RHO])
def test_mmdet_bbox_head_matches_public_code(rho):
    torch.manual_seed(0)
    head = build_mmdet_head(
        dict(type='GRWKLLoss', class_counts=COUNTS, rho=rho))
    cls_score = torch.randn(64, len(COUNTS) + 1)
    labels = torch.randint(0, len(COUNTS) + 1, (64, ))  # C = background
    labels[:40] = len(COUNTS)  # background dominates the sampled RoIs
    # the public GRWFastRCNNOutputs: F.cross_entropy(weight=[C * w, 1])
    weight = torch.cat([public_grw_class_weight(COUNTS, rho),
                        torch.ones(1)])
    expected = F.cross_entropy(cls_score, labels, weight=weight)
    loss = mmdet_loss_cls(head, cls_score, labels, torch.ones(64))
    assert torch.allclose(loss, expected, atol=1e-6, rtol=0)
    if rho == 0:  # mmdet's own cross-entropy on the same head path
        stock = build_mmdet_head(dict(type='CrossEntropyLoss'))
        assert torch.allclose(
            loss, mmdet_loss_cls(stock, cls_score, labels, torch.ones(64)),
            atol=1e-6, rtol=0)


def build_mmseg_head(loss_decode):
    import mmlt.segmentation  # noqa: F401
    from mmseg.registry import MODELS
    return MODELS.build(
        dict(type='FCNHead', in_channels=4, channels=4, num_convs=1,
             num_classes=len(COUNTS), norm_cfg=dict(type='BN'),
             loss_decode=loss_decode))


def mmseg_loss(head, logits, label):
    from mmseg.structures import SegDataSample
    samples = []
    for one in label:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=one[None])
        samples.append(sample)
    return head.loss_by_feat(logits, samples)


@pytest.mark.parametrize('rho', [0.0, RHO])
def test_mmseg_decode_head_matches_public_code(rho):
    torch.manual_seed(0)
    head = build_mmseg_head(
        dict(type='GRWKLLoss', class_counts=COUNTS, rho=rho,
             loss_name='loss_grw'))
    logits = torch.randn(2, len(COUNTS), 4, 4)  # the label's size: no resize
    label = torch.randint(0, len(COUNTS), (2, 4, 4))
    label[0, :2] = 255  # a quarter of the pixels ignored
    # the public mmseg 0.x code: CrossEntropyLoss(class_weight=C * w), the
    # per-pixel losses averaged over all pixels, ignored ones as zeros
    per_pixel = F.cross_entropy(
        logits, label, weight=public_grw_class_weight(COUNTS, rho),
        ignore_index=255, reduction='none')
    expected = per_pixel.sum() / per_pixel.numel()
    loss = mmseg_loss(head, logits, label)['loss_grw']
    assert torch.allclose(loss, expected, atol=1e-6, rtol=0)
    if rho == 0:  # mmseg's own cross-entropy on the same head path
        stock = build_mmseg_head(
            dict(type='CrossEntropyLoss', loss_name='loss_grw'))
        assert torch.allclose(loss, mmseg_loss(stock, logits, label)
                              ['loss_grw'], atol=1e-6, rtol=0)


def build_mmpretrain_head(loss):
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    return MODELS.build(
        dict(type='LinearClsHead', num_classes=len(COUNTS), in_channels=3,
             loss=loss))


@pytest.mark.parametrize('rho', [0.0, RHO])
def test_mmpretrain_cls_head_matches_public_code(rho):
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    head = build_mmpretrain_head(
        dict(type='GRWKLLoss', class_counts=COUNTS, rho=rho))
    feats = (torch.randn(16, 3), )
    logits = head(feats)
    labels = torch.randint(0, len(COUNTS), (16, ))
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    # the public GRWCrossEntropyLoss: F.cross_entropy(weight=C * w)
    weight = public_grw_class_weight(COUNTS, rho)
    expected = F.cross_entropy(logits, labels, weight=weight)
    loss = head.loss(feats, samples)['loss']
    assert torch.allclose(loss, expected, atol=1e-6, rtol=0)
    # Mixup / CutMix soft targets: sum_ic w_c t_ic l_ic / sum_ic w_c t_ic,
    # which one-hot targets reduce to the line above
    soft = torch.softmax(torch.randn(16, len(COUNTS)) * 3, dim=1)
    samples = [DataSample().set_gt_score(t) for t in soft]
    log_p = F.log_softmax(logits, 1)
    expected_soft = -(weight * soft * log_p).sum() / (weight * soft).sum()
    assert torch.allclose(head.loss(feats, samples)['loss'], expected_soft,
                          atol=1e-6, rtol=0)
    if rho == 0:  # mmpretrain's own cross-entropy, hard and soft
        stock = build_mmpretrain_head(dict(type='CrossEntropyLoss'))
        stock.load_state_dict(head.state_dict())
        hard = [DataSample().set_gt_label(int(y)) for y in labels]
        assert torch.allclose(loss, stock.loss(feats, hard)['loss'],
                              atol=1e-6, rtol=0)
        stock_soft = build_mmpretrain_head(
            dict(type='CrossEntropyLoss', use_soft=True))
        stock_soft.load_state_dict(head.state_dict())
        assert torch.allclose(
            head.loss(feats, samples)['loss'],
            stock_soft.loss(feats, samples)['loss'], atol=1e-6, rtol=0)


TOOLBOX_MODELS = dict(mmdet='mmdet.models', mmseg='mmseg.models',
                      mmpretrain='mmpretrain.models')
LOADED = ('import sys; print(sorted({m.split(".")[0] for m in sys.modules} & '
          '{"mmdet", "mmseg", "mmpretrain"}))')


@pytest.mark.parametrize('adapter,toolbox', [('detection', 'mmdet'),
                                              ('segmentation', 'mmseg'),
                                              ('classification', 'mmpretrain')])
def test_an_adapter_imports_no_other_toolbox_than_its_own(adapter, toolbox):
    # A toolbox may itself try-import another one (mmseg and mmpretrain
    # do): the adapter must add nothing beyond what its toolbox loads.
    def loaded(module):
        out = subprocess.run(
            [sys.executable, '-c', f'import {module}; {LOADED}'],
            capture_output=True, text=True, check=True).stdout
        return set(eval(out.strip().splitlines()[-1]))

    by_adapter = loaded(f'mmlt.{adapter}')
    assert toolbox in by_adapter
    assert by_adapter <= loaded(TOOLBOX_MODELS[toolbox])


def test_core_imports_no_toolbox():
    code = ('import sys, mmlt, mmlt.core, mmlt.core.frequency; print(sorted({m.split(".")[0] '
            'for m in sys.modules} & {"mmengine", "mmcv", "mmdet", "mmseg", '
            '"mmpretrain"}))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '[]'
