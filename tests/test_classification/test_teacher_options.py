"""The DeiT-LT teacher's cost options (``channels_last``, ``compile``) leave
its logits as they were; the step compares the normalisations once, not
with a host synchronisation per step; bad options are refused."""
import pytest
import torch
from mmengine.registry import init_default_scope

import mmlt.classification  # noqa: F401
import mmlt.classification.deit_lt  # noqa: F401
from mmpretrain.registry import MODELS

from test_deit_model import batch, build, teacher_cfg  # noqa: F401
from test_deit_model import teacher_ckpt  # noqa: F401  (fixture)
from tiny_models import tiny_deit_student as student


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmpretrain')


def student_inputs(model, num=6):
    return model.data_preprocessor(batch(num), True)['inputs']


def reference_logits(model, inputs):
    """The teacher's logits as computed before the options existed."""
    with torch.no_grad():
        model.teacher.eval()
        return model.teacher(model.teacher_inputs(inputs), mode='tensor')


def test_options_off_are_the_plain_teacher(teacher_ckpt):  # noqa: F811
    model = build(teacher_ckpt, channels_last=False, compile=False)
    inputs = student_inputs(model)
    expected = reference_logits(model, inputs)
    assert torch.equal(model.teacher_logits(inputs), expected)
    # the default on a CPU: off
    model = build(teacher_ckpt)
    assert torch.equal(model.teacher_logits(inputs), expected)
    conv = model.teacher.backbone.conv1.weight
    assert conv.is_contiguous()


def test_channels_last_gives_the_same_logits(teacher_ckpt):  # noqa: F811
    plain = build(teacher_ckpt, channels_last=False)
    model = build(teacher_ckpt, channels_last=True)
    seen = {}
    model.teacher.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('input', args[0]))
    inputs = student_inputs(model)
    out = model.teacher_logits(inputs)
    assert model.teacher.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    assert seen['input'].is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, plain.teacher_logits(inputs),
                               rtol=1e-5, atol=1e-5)
    # and so does the whole loss
    torch.manual_seed(1)
    loss = model.loss(inputs, batch()['data_samples'])
    torch.manual_seed(1)
    expected = plain.loss(inputs, batch()['data_samples'])
    for key in expected:
        torch.testing.assert_close(loss[key], expected[key], rtol=1e-5,
                                   atol=1e-5)


def test_compiled_teacher_gives_the_same_logits(teacher_ckpt):  # noqa: F811
    # backend 'eager': dynamo's capture without a code generator (fast)
    model = build(teacher_ckpt, compile=dict(backend='eager'))
    inputs = student_inputs(model)
    out = model.teacher_logits(inputs)
    torch.testing.assert_close(out, reference_logits(model, inputs),
                               rtol=1e-6, atol=1e-6)
    compiled = model.distillation_teacher.__dict__['_compiled'][1]
    assert isinstance(compiled, torch._dynamo.eval_frame.OptimizedModule)
    # outside the module tree: not in the state dict or the parameters
    assert not any('teacher' in k for k in model.state_dict())
    assert model.teacher_logits(inputs).shape == out.shape
    assert model.distillation_teacher.__dict__['_compiled'][1] is compiled  # built once


@pytest.mark.parametrize('bad', [dict(compile='yes'), dict(compile=3),
                                 dict(fuse=True)])
def test_bad_teacher_options_are_refused(teacher_ckpt, bad):  # noqa: F811
    with pytest.raises(ValueError, match='teacher must be dict'):
        student(dict(config=teacher_cfg(), checkpoint=teacher_ckpt, **bad))


def test_normalisations_compared_once(teacher_ckpt, monkeypatch):  # noqa: F811
    """``torch.equal`` returns a Python bool: on a GPU it waits for the
    device. The student and teacher normalisations are compared on the first
    step only; the re-normalisation still happens on every step."""
    model = build(teacher_ckpt)
    inputs = student_inputs(model)
    calls = []
    original = torch.equal
    monkeypatch.setattr(torch, 'equal',
                        lambda *a: calls.append(1) or original(*a))
    first = model.teacher_inputs(inputs)
    assert calls  # compared (they differ: the teacher re-normalises)
    calls.clear()
    for _ in range(3):
        assert torch.equal(model.teacher_inputs(inputs), first)
    assert len(calls) == 3  # the asserts' own, none from teacher_inputs
    # other mean / std tensors (e.g. after .to()) are compared again
    model.teacher.data_preprocessor.mean = \
        model.teacher.data_preprocessor.mean.clone()
    calls.clear()
    model.teacher_inputs(inputs)
    assert calls


def test_drw_weights_copied_to_the_device_once():
    """The DRW weights (computed on the host) reach the logits' device once,
    not by a blocking host-to-device copy in every step ('meta' stands in
    for a GPU here)."""
    head = MODELS.build(dict(type='DeiTLTClsHead', num_classes=3,
                             in_channels=4, class_counts=[6, 3, 1]))
    logits = torch.empty(2, 3, device='meta')
    first = head._drw_weights_like(logits)
    assert first.device.type == 'meta'
    assert head._drw_weights_like(logits) is first
    cpu = torch.zeros(2, 3)
    assert head._drw_weights_like(cpu) is head.drw_weights
    head.set_class_counts([1, 1, 1])  # new counts: copied again
    second = head._drw_weights_like(logits)
    assert second is not first and second.device.type == 'meta'
    assert head._drw_weights_like(logits) is second
