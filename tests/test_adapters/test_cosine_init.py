"""The cosine classifier trains: its rows start with unit norm in every
toolbox, whatever the head's ``init_cfg``.

With the toolboxes' Normal std 0.01 the rows start with norm ~0.08; the
gradient through the normalisation scales as 1 / |w_j|, so the first SGD
steps blow the rows up and freeze the classifier (stage 1 on LT-Digits
predicted 2-5 of 10 classes)."""
import pytest
import torch
import torch.nn.functional as F


def mmpretrain_fc():
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    head = MODELS.build(dict(
        type='CosineLinearClsHead', num_classes=10, in_channels=64,
        init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
    head.init_weights()
    return head.fc


def mmdet_fc():
    import mmlt.detection  # noqa: F401
    from mmdet.registry import MODELS
    head = MODELS.build(dict(
        type='Shared2FCBBoxHead', in_channels=4, fc_out_channels=64,
        roi_feat_size=1, num_classes=9,
        cls_predictor_cfg=dict(type='CosineLinear')))
    head.init_weights()
    return head.fc_cls


@pytest.mark.parametrize('build', [mmpretrain_fc, mmdet_fc])
def test_rows_start_with_unit_norm_and_keep_learning(build):
    torch.manual_seed(0)
    fc = build()
    norms = fc.weight.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    # SGD at the demo's lr on separable features: the rows stay O(1), so
    # the classifier keeps its learning rate, and it learns every class
    centers = F.normalize(torch.randn(10, 64), dim=1)
    labels = torch.arange(10).repeat(20)
    x = torch.relu(centers[labels] * 8 + 0.3 * torch.randn(200, 64))
    opt = torch.optim.SGD([fc.weight], lr=0.1, momentum=0.9,
                          weight_decay=5e-4)
    for _ in range(100):
        loss = F.cross_entropy(fc(x)[:, :10], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert fc.weight.norm(dim=1).max() < 6
    assert (fc(x)[:, :10].argmax(1) == labels).float().mean() > 0.95
