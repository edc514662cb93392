"""DeiT-LT math against hand computations: DRW weights, the weighted
hard-distillation loss, LDAM, and SAM's two-step update (the
``SAMOptimWrapper`` against a hand-written SAM step on a tiny model)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from mmlt.classification.ldam import LDAMLoss
from mmlt.classification.sam import SAMOptimWrapper
from mmlt.core.distillation import hard_distillation_loss
from mmlt.core.ldam import ldam_loss, ldam_margins
from mmlt.core.sam import sam_perturb, sam_restore
from mmlt.core.reweighting import effective_number_weights

LT_DIGITS = [440, 263, 158, 94, 56, 34, 20, 12, 7, 4]


def hand_weights(counts, beta):
    raw = [(1 - beta) / (1 - beta**n) for n in counts]
    return [w * len(raw) / sum(raw) for w in raw]


@pytest.mark.parametrize('counts, beta', [([6, 3, 1], 0.5),
                                          (LT_DIGITS, 0.9999)])
def test_drw_weights_match_hand_values(counts, beta):
    got = effective_number_weights(counts, beta)
    assert got.tolist() == pytest.approx(hand_weights(counts, beta),
                                         rel=1e-5)
    # the rarest class gets the largest weight
    assert int(got.argmax()) == counts.index(min(counts))


def test_drw_weights_three_classes_by_hand():
    # beta 0.5: (0.5 / 0.984375, 0.5 / 0.875, 0.5 / 0.5), mean 1
    raw = [0.5 / 0.984375, 0.5 / 0.875, 1.0]
    expected = [3 * r / sum(raw) for r in raw]
    got = effective_number_weights([6, 3, 1], 0.5).tolist()
    assert got == pytest.approx(expected, rel=1e-6)
    assert got == pytest.approx([0.7328, 0.8244, 1.4427], abs=1e-4)


def test_hard_distillation_weighted_mean_by_teacher_class():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0],
                           [-1.0, 1.0, 3.0]])
    teacher = torch.tensor([[0.1, 5.0, 0.0], [0.0, 0.0, 1.0],
                            [0.0, 0.0, 2.0]])  # classes 1, 2, 2
    weights = torch.tensor([0.5, 1.0, 3.0])
    per_sample = [
        -math.log(math.exp(0) / sum(math.exp(v) for v in (2.0, 0.0, -1.0))),
        -math.log(math.exp(0) / sum(math.exp(v) for v in (0.5, 0.5, 0.0))),
        -math.log(math.exp(3) / sum(math.exp(v) for v in (-1.0, 1.0, 3.0))),
    ]
    w = [1.0, 3.0, 3.0]  # weights of the teacher's classes 1, 2, 2
    expected = sum(a * b for a, b in zip(w, per_sample)) / sum(w)
    got = hard_distillation_loss(logits, teacher, weights)
    assert float(got) == pytest.approx(expected, rel=1e-6)
    plain = hard_distillation_loss(logits, teacher)
    assert float(plain) == pytest.approx(sum(per_sample) / 3, rel=1e-6)
    # the true labels play no role: only the teacher's argmax does
    assert float(hard_distillation_loss(logits, teacher.argmax(1),
                                        weights)) == pytest.approx(expected)


def test_ldam_margins_and_loss_by_hand():
    counts = [16, 1]
    margins = ldam_margins(counts, max_margin=0.5)
    # n^-1/4: 0.5 and 1, scaled so the largest is 0.5
    assert margins.tolist() == pytest.approx([0.25, 0.5])
    logits = torch.tensor([[0.2, 0.1], [0.3, 0.4]])
    labels = torch.tensor([0, 1])
    s = 10.0
    z0 = [s * (0.2 - 0.25), s * 0.1]
    z1 = [s * 0.3, s * (0.4 - 0.5)]
    l0 = -z0[0] + math.log(sum(math.exp(v) for v in z0))
    l1 = -z1[1] + math.log(sum(math.exp(v) for v in z1))
    assert float(ldam_loss(logits, labels, margins, s)) == pytest.approx(
        (l0 + l1) / 2, rel=1e-6)
    w = torch.tensor([1.0, 4.0])
    assert float(ldam_loss(logits, labels, margins, s, w)) == pytest.approx(
        (l0 + 4 * l1) / 5, rel=1e-6)


def test_ldam_loss_module_switches_drw_weights():
    loss = LDAMLoss(class_counts=[16, 1], max_margin=0.5, scale=10,
                    drw_beta=0.9)
    logits = torch.tensor([[0.2, 0.1], [0.3, 0.4]])
    labels = torch.tensor([0, 1])
    margins = torch.tensor([0.25, 0.5])
    plain = ldam_loss(logits, labels, margins, 10)
    weighted = ldam_loss(logits, labels, margins, 10,
                         torch.tensor(hand_weights([16, 1], 0.9)))
    assert float(loss(logits, labels)) == pytest.approx(float(plain))
    loss.set_drw(True)
    assert float(loss(logits, labels)) == pytest.approx(float(weighted))
    assert float(weighted) != pytest.approx(float(plain))
    # one-hot scores (to_onehot) are hard labels
    assert float(loss(logits, F.one_hot(labels, 2))) == pytest.approx(
        float(weighted))
    with pytest.raises(ValueError, match='hard labels'):
        loss(logits, torch.tensor([[0.7, 0.3], [0.2, 0.8]]))
    with pytest.raises(RuntimeError, match='DRWHook'):
        LDAMLoss()(logits, labels)


def test_sam_perturb_and_restore():
    p = nn.Parameter(torch.tensor([3.0, 4.0]))
    p.grad = torch.tensor([3.0, 4.0])
    moved = sam_perturb([p], rho=0.5)
    assert p.detach().tolist() == pytest.approx([3.3, 4.4])
    sam_restore(moved)
    assert p.detach().tolist() == pytest.approx([3.0, 4.0])


class TinyNet(BaseModel):

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc1 = nn.Linear(4, 5)
        self.bn = nn.BatchNorm1d(5)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, inputs, labels=None, mode='tensor'):
        logits = self.fc2(torch.relu(self.bn(self.fc1(inputs))))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


def batch():
    gen = torch.Generator().manual_seed(1)
    return dict(inputs=torch.randn(8, 4, generator=gen),
                labels=torch.randint(0, 3, (8, ), generator=gen))


def hand_sam_step(model, data, lr, rho):
    """SAM by hand: g at w, e = rho g / |g|, g' at w + e, w <- w - lr g'."""
    params = list(model.parameters())
    loss = model(**data, mode='loss')['loss']
    grads = torch.autograd.grad(loss, params)
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.add_(rho * g / norm)
    stats = (model.bn.running_mean.clone(), model.bn.running_var.clone())
    loss2 = model(**data, mode='loss')['loss']
    grads2 = torch.autograd.grad(loss2, params)
    with torch.no_grad():
        model.bn.running_mean.copy_(stats[0])
        model.bn.running_var.copy_(stats[1])
        for p, g, g2 in zip(params, grads, grads2):
            p.sub_(rho * g / norm)
            p.sub_(lr * g2)
    return grads2


@pytest.mark.parametrize('use_closure', [False, True])
def test_sam_wrapper_matches_hand_sam(use_closure):
    lr, rho = 0.1, 0.5
    data = batch()
    hand = TinyNet().train()
    hand_sam_step(hand, data, lr, rho)

    model = TinyNet().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = SAMOptimWrapper(torch.optim.SGD(model.parameters(), lr=lr),
                              rho=rho)
    assert all(g['rho'] == rho for g in wrapper.param_groups)
    if use_closure:
        loss = model(**data, mode='loss')['loss']
        wrapper.update_params(
            loss, closure=lambda: model(**data, mode='loss')['loss'])
        # an explicit closure updates BN statistics a second time
        model.bn.running_mean.copy_(hand.bn.running_mean)
        model.bn.running_var.copy_(hand.bn.running_var)
    else:
        # mmengine's standard train_step: the wrapper re-runs the forward
        model.train_step(data, wrapper)
    for (name, p_hand), p in zip(hand.named_parameters(), model.parameters()):
        assert torch.allclose(p_hand, p, atol=1e-6), name
        assert p.grad is None or not p.grad.any()
    # a plain SGD step would land elsewhere
    plain = TinyNet().train()
    plain.load_state_dict(before)
    sgd = torch.optim.SGD(plain.parameters(), lr=lr)
    plain(**data, mode='loss')['loss'].backward()
    sgd.step()
    assert not torch.allclose(plain.fc1.weight, model.fc1.weight, atol=1e-5)
    # BN statistics: updated by the first forward only
    assert torch.allclose(model.bn.running_mean, hand.bn.running_mean)
    assert int(model.bn.num_batches_tracked) == (2 if use_closure else 1)


def test_sam_wrapper_refuses_accumulation_and_needs_a_forward():
    model = TinyNet()
    with pytest.raises(ValueError, match='accumulation'):
        SAMOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                        accumulative_counts=2)
    wrapper = SAMOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    loss = model(**batch(), mode='loss')['loss']
    with pytest.raises(RuntimeError, match='closure'):
        wrapper.update_params(loss)
