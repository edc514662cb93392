"""``GRWKLLoss`` built from each toolbox's registry and called the way that
toolbox's stock heads call their losses."""
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

COUNTS = [9, 1]  # G-RW weights with rho=1: [0.2, 1.8]


def test_mmdet_bbox_head_convention():
    import mmlt.detection  # noqa: F401
    from mmdet.registry import MODELS
    head = MODELS.build(
        dict(
            type='Shared2FCBBoxHead',
            in_channels=4,
            fc_out_channels=8,
            roi_feat_size=2,
            num_classes=2,
            loss_cls=dict(type='GRWKLLoss', class_counts=COUNTS, rho=1.0)))
    cls_score = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                              [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    labels = torch.tensor([0, 1, 2, 1])  # 2 = background
    label_weights = torch.tensor([1.0, 1.0, 1.0, 0.0])
    losses = head.loss(cls_score, torch.zeros(4, 8), torch.zeros(4, 5),
                       labels, label_weights, torch.zeros(4, 4),
                       torch.zeros(4, 4))
    nll = -F.log_softmax(cls_score, 1)[torch.arange(4), labels]
    # background weight 1; avg_factor = 3 RoIs with a positive label weight
    expected = (0.2 * nll[0] + 1.8 * nll[1] + 1.0 * nll[2]) / 3
    assert torch.allclose(losses['loss_cls'], expected)


def test_mmseg_decode_head_convention():
    import mmlt.segmentation  # noqa: F401
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    head = MODELS.build(
        dict(
            type='FCNHead',
            in_channels=4,
            channels=4,
            num_convs=1,
            num_classes=2,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(
                type='GRWKLLoss', class_counts=COUNTS, rho=1.0,
                loss_name='loss_grw')))
    logits = torch.randn(1, 2, 2, 2)
    label = torch.tensor([[[0, 1], [255, 1]]])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=label)
    losses = head.loss_by_feat(logits, [sample])
    nll = -F.log_softmax(logits, 1)[0].permute(1, 2, 0).reshape(4, 2)
    nll = nll[torch.arange(4), torch.tensor([0, 1, 0, 1])]
    # ignore_index 255 from the head; mean over the 3 labelled pixels
    expected = (0.2 * nll[0] + 1.8 * nll[1] + 1.8 * nll[3]) / 3
    assert torch.allclose(losses['loss_grw'], expected)


def test_mmpretrain_cls_head_convention_hard_and_soft():
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    head = MODELS.build(
        dict(
            type='LinearClsHead',
            num_classes=2,
            in_channels=3,
            loss=dict(type='GRWKLLoss', class_counts=COUNTS, rho=1.0)))
    feats = (torch.randn(2, 3), )
    logits = head(feats)
    w = torch.tensor([0.2, 1.8])
    samples = [DataSample().set_gt_label(0), DataSample().set_gt_label(1)]
    nll = -F.log_softmax(logits, 1)[[0, 1], [0, 1]]
    assert torch.allclose(
        head.loss(feats, samples)['loss'], (w * nll).sum() / 2)
    soft = torch.tensor([[0.6, 0.4], [0.1, 0.9]])
    samples = [DataSample().set_gt_score(s) for s in soft]
    expected = -(w * soft * F.log_softmax(logits, 1)).sum() / 2
    assert torch.allclose(head.loss(feats, samples)['loss'], expected)


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
    code = ('import sys, mmlt, mmlt.core, mmlt.frequency; print(sorted({m.split(".")[0] '
            'for m in sys.modules} & {"mmengine", "mmcv", "mmdet", "mmseg", '
            '"mmpretrain"}))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '[]'
