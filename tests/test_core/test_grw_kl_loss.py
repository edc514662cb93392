"""The G-RW KL loss: hand-computed values and its documented normalisation
(the public DisAlign code's: a weighted mean for classification and
detection, the mean over all pixels for segmentation)."""
import json

import pytest
import torch
import torch.nn.functional as F

from mmlt.core import GRWKLLoss, grw_kl_loss, grw_weights


def test_rho_zero_equals_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(12, 5)
    labels = torch.randint(0, 5, (12, ))
    loss = GRWKLLoss(class_counts=[50, 20, 9, 3, 1], rho=0.0)
    assert torch.allclose(loss(logits, labels), F.cross_entropy(logits, labels))
    # per pixel, with an ignore index: the mean over non-ignored pixels.
    logits = torch.randn(2, 5, 4, 4)
    labels = torch.randint(0, 5, (2, 4, 4))
    labels[0, 0] = 255
    assert torch.allclose(
        loss(logits, labels, ignore_index=255),
        F.cross_entropy(logits, labels, ignore_index=255))
    # 'mean_all': mmseg's avg_non_ignore=False, ignored pixels count as 0
    loss_all = GRWKLLoss(class_counts=[50, 20, 9, 3, 1], rho=0.0,
                         normalization='mean_all')
    assert torch.allclose(
        loss_all(logits, labels, ignore_index=255),
        F.cross_entropy(logits, labels, ignore_index=255,
                        reduction='none').mean())


def test_weighted_value_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    w = grw_weights([9, 1], rho=1.0)  # [0.2, 1.8]
    assert torch.allclose(w, torch.tensor([0.2, 1.8]))
    nll = -F.log_softmax(logits, 1)[torch.arange(3), labels]
    weighted_sum = 0.2 * nll[0] + 1.8 * nll[1] + 1.8 * nll[2]
    expected = weighted_sum / (0.2 + 1.8 + 1.8)  # a weighted mean
    loss = GRWKLLoss(class_counts=[9, 1], rho=1.0)
    assert torch.allclose(loss(logits, labels), expected)
    # the toolboxes' avg_factor does not change the weighted mean
    assert torch.allclose(loss(logits, labels, avg_factor=6), expected)
    assert torch.allclose(
        loss(logits, labels, reduction_override='sum'), weighted_sum)
    loss_all = GRWKLLoss(class_counts=[9, 1], rho=1.0,
                         normalization='mean_all')
    assert torch.allclose(loss_all(logits, labels), weighted_sum / 3)
    assert loss(logits, labels, reduction_override='none').shape == (3, )


def test_soft_targets_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([[0.7, 0.3], [0.0, 1.0]])
    log_p = F.log_softmax(logits, 1)
    w = torch.tensor([0.2, 1.8])
    # sum_i sum_c w_c t_ic l_ic / sum_i sum_c w_c t_ic
    expected = -(w * target * log_p).sum() / (w * target).sum()
    loss = GRWKLLoss(class_counts=[9, 1], rho=1.0)
    assert torch.allclose(loss(logits, target), expected)
    # one-hot soft targets give the hard-label loss
    hard = loss(logits, torch.tensor([0, 1]))
    assert torch.allclose(loss(logits, F.one_hot(torch.tensor([0, 1])).float()),
                          hard)


def test_sample_weights_and_all_ignored():
    logits = torch.randn(4, 3, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 1])
    loss = GRWKLLoss(class_counts=[3, 2, 1], rho=0.0)
    weighted = loss(logits, labels, weight=torch.tensor([1.0, 0.0, 1.0, 0.0]))
    # the weighted mean over the samples whose weight is not 0
    expected = F.cross_entropy(logits, labels, reduction='none')[[0, 2]].mean()
    assert torch.allclose(weighted, expected)
    ignored = loss(logits, torch.full((4, ), 255), ignore_index=255)
    assert ignored.item() == 0.0
    ignored.backward()
    assert torch.isfinite(logits.grad).all()


def test_background_logit_weight_one():
    loss = GRWKLLoss(class_counts=[9, 1], rho=1.0, background=True)
    assert torch.allclose(loss.class_weights, torch.tensor([0.2, 1.8, 1.0]))
    logits = torch.randn(3, 3)
    labels = torch.tensor([2, 2, 2])  # all background
    assert torch.allclose(loss(logits, labels), F.cross_entropy(logits, labels))


def test_class_count_mismatch_is_a_clear_error():
    loss = GRWKLLoss(class_counts=[9, 1], rho=1.0, background=True)
    with pytest.raises(ValueError, match=r'2 classes \+ 1 background.*outputs 5'):
        loss(torch.randn(2, 5), torch.tensor([0, 1]))


def test_label_out_of_range():
    with pytest.raises(ValueError, match='label 7'):
        grw_kl_loss(torch.randn(2, 3), torch.tensor([0, 7]), torch.ones(3))


def test_needs_exactly_one_frequency_source(tmp_path):
    with pytest.raises(ValueError, match='exactly one'):
        GRWKLLoss(rho=1.0)
    with pytest.raises(ValueError, match='loss_'):
        GRWKLLoss(class_counts=[1, 2], loss_name='grw')
    with pytest.raises(ValueError, match='rho'):
        GRWKLLoss(class_counts=[1, 2], rho=-1)


def test_frequency_file_source(tmp_path):
    from mmlt.core.frequency import ClassFrequency
    path = tmp_path / 'freq.json'
    ClassFrequency.from_counts(['a', 'b'], [9, 1], kind='images').save(path)
    loss = GRWKLLoss(frequency_file=str(path), rho=1.0)
    assert loss.classes == ('a', 'b')
    assert torch.allclose(loss.class_weights, torch.tensor([0.2, 1.8]))
    assert json.loads(path.read_text())['counts'] == [9, 1]
