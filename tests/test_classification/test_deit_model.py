"""The DeiT-LT classifier on tiny models: the frozen teacher (no gradient,
eval mode, outside the student's state dict and optimizer), what it sees
(the student's mixed batch, resized bicubic and re-normalised), the loss
before and after DRW, class-count checks, and the CLS / DIST / average
metrics on a hand-made case."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.evaluator import Evaluator
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmlt.classification  # noqa: F401
import mmlt.classification.deit_lt  # noqa: F401
from mmlt.classification.deit_lt import DeiTLTClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

COUNTS = [6, 3, 1]
STUDENT_MEAN, STUDENT_STD = [100., 110., 120.], [50., 60., 70.]
TEACHER_MEAN, TEACHER_STD = [10., 20., 30.], [2., 4., 8.]


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmpretrain')


def teacher_cfg(num_classes=3):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=64),
        data_preprocessor=dict(mean=TEACHER_MEAN, std=TEACHER_STD))


def student_cfg(teacher):
    return dict(
        type='DeiTLTClassifier',
        backbone=dict(
            type='DistilledVisionTransformer',
            arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                      feedforward_channels=32),
            img_size=16, patch_size=4),
        head=dict(type='DeiTLTClsHead', num_classes=3, in_channels=16,
                  class_counts=COUNTS,
                  init_cfg=dict(type='Normal', layer='Linear', std=0.5)),
        data_preprocessor=dict(num_classes=3, mean=STUDENT_MEAN,
                               std=STUDENT_STD),
        train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8),
                                 dict(type='CutMix', alpha=1.0)]),
        teacher=teacher)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    teacher = MODELS.build(teacher_cfg())
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save(dict(meta=dict(epoch=3), state_dict=teacher.state_dict()),
               path)
    return str(path)


def build(teacher_ckpt, img_size=8, **teacher) -> DeiTLTClassifier:
    torch.manual_seed(0)
    model = MODELS.build(student_cfg(
        dict(config=teacher_cfg(), checkpoint=teacher_ckpt,
             img_size=img_size, **teacher)))
    model.init_weights()
    return model


def batch(num=6):
    gen = torch.Generator().manual_seed(0)
    inputs = (torch.rand(num, 3, 16, 16, generator=gen) * 255).to(torch.uint8)
    labels = [0, 0, 0, 1, 1, 2][:num]
    return dict(inputs=list(inputs),
                data_samples=[DataSample().set_gt_label(y) for y in labels])


def to_teacher_space(x):
    s_mean = torch.tensor(STUDENT_MEAN).view(1, 3, 1, 1)
    s_std = torch.tensor(STUDENT_STD).view(1, 3, 1, 1)
    t_mean = torch.tensor(TEACHER_MEAN).view(1, 3, 1, 1)
    t_std = torch.tensor(TEACHER_STD).view(1, 3, 1, 1)
    return (x * s_std + s_mean - t_mean) / t_std


def capture(model):
    seen = {}
    model.backbone.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('student', args[0].detach()))
    model.teacher.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('teacher', args[0].detach()))
    model.teacher.register_forward_hook(
        lambda m, args, out: seen.__setitem__('teacher_out', out))
    return seen


def test_the_teacher_checkpoint_may_be_its_run_dir(teacher_ckpt, tmp_path):
    """The student configs name the teacher run's work dir: its latest
    complete checkpoint is loaded; a dir without one is an error."""
    import shutil
    run = tmp_path / 'teacher_run'
    run.mkdir()
    shutil.copy(teacher_ckpt, run / 'epoch_3.pth')
    (run / 'last_checkpoint').write_text('epoch_3.pth')
    model = build(str(run))
    ckpt = torch.load(teacher_ckpt, weights_only=False)['state_dict']
    assert all(torch.equal(ckpt[k], v)
               for k, v in model.teacher.state_dict().items())
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError,
                       match='directory without a complete checkpoint'):
        build(str(tmp_path / 'empty'))


def test_teacher_frozen_eval_no_grad_and_outside_the_student(teacher_ckpt):
    model = build(teacher_ckpt)
    teacher = model.teacher
    model.train()
    assert model.training and model.backbone.training
    assert not any(m.training for m in teacher.modules())
    assert not any(p.requires_grad for p in teacher.parameters())
    assert not any(k.startswith('teacher') for k in model.state_dict())
    own = {id(p) for p in model.parameters()}
    assert not own & {id(p) for p in teacher.parameters()}

    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=0.05)))
    seen = capture(model)
    teacher_before = copy.deepcopy(teacher.state_dict())
    student_before = copy.deepcopy(model.state_dict())
    np.random.seed(0)
    for _ in range(2):
        model.train_step(batch(), optim)
    assert not seen['teacher_out'].requires_grad
    for key, value in teacher.state_dict().items():  # incl. BN statistics
        assert torch.equal(value, teacher_before[key]), key
    assert all(p.grad is None for p in teacher.parameters())
    assert not any(m.training for m in teacher.modules())
    assert any(not torch.equal(v, student_before[k])
               for k, v in model.state_dict().items())
    # the weights were the checkpoint's
    ckpt = torch.load(teacher_ckpt, weights_only=False)['state_dict']
    assert all(torch.equal(ckpt[k], v) for k, v in teacher_before.items())
    # .to() moves the teacher with the student
    model.to(torch.float64)
    assert next(teacher.parameters()).dtype == torch.float64


@pytest.mark.parametrize('antialias', [False, True])
def test_teacher_sees_the_mixed_resized_batch(teacher_ckpt, antialias):
    # default: DeiT-LT's public code, plain bicubic without antialiasing
    teacher = dict(resize_antialias=True) if antialias else {}
    model = build(teacher_ckpt, img_size=8, **teacher).train()
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD',
                                                            lr=0.0)))
    seen = capture(model)
    plain = model.data_preprocessor(batch(), False)['inputs']
    np.random.seed(0)
    torch.manual_seed(0)
    model.train_step(batch(), optim)
    student, teacher = seen['student'], seen['teacher']
    assert student.shape[-2:] == (16, 16) and teacher.shape[-2:] == (8, 8)
    assert not torch.allclose(student, plain, atol=1e-3)  # mixed
    expected = to_teacher_space(
        F.interpolate(student, size=(8, 8), mode='bicubic',
                      align_corners=False, antialias=antialias))
    assert torch.allclose(teacher, expected, atol=1e-4)
    for other in (F.interpolate(student, size=(8, 8), mode='bilinear'),
                  F.interpolate(student, size=(8, 8), mode='bicubic',
                                align_corners=False,
                                antialias=not antialias),
                  F.interpolate(plain, size=(8, 8), mode='bicubic',
                                antialias=antialias)):
        assert not torch.allclose(teacher, to_teacher_space(other),
                                  atol=1e-3)
    # same resolution: no resize, only the re-normalisation
    model.teacher_size = (16, 16)
    model.train_step(batch(), optim)
    assert torch.allclose(seen['teacher'],
                          to_teacher_space(seen['student']), atol=1e-4)
    # DRW: Mixup / CutMix off, the teacher sees the plain batch
    model.set_drw(True)
    model.train_step(batch(), optim)
    assert torch.allclose(seen['student'], plain)
    assert torch.allclose(seen['teacher'], to_teacher_space(plain),
                          atol=1e-4)


def test_loss_before_and_after_drw(teacher_ckpt):
    model = build(teacher_ckpt).train()
    seen = capture(model)
    np.random.seed(0)
    data = model.data_preprocessor(batch(), True)
    samples = data['data_samples']
    assert 'gt_score' in samples[0]
    losses = model.loss(data['inputs'], samples)
    cls, dist = model.head.forward_heads(
        model.extract_feat(seen['student']))
    target = seen['teacher_out'].argmax(1)
    score = torch.stack([s.gt_score for s in samples])
    smooth = score * 0.9 + 0.1 / 3
    soft_ce = -(smooth * F.log_softmax(cls, 1)).sum(1).mean()
    assert float(losses['loss_cls']) == pytest.approx(0.5 * float(soft_ce),
                                                      rel=1e-5)
    assert float(losses['loss_dist']) == pytest.approx(
        0.5 * float(F.cross_entropy(dist, target)), rel=1e-5)

    for m in (model, model.head):
        m.set_drw(True)
    data = model.data_preprocessor(batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    cls, dist = model.head.forward_heads(model.extract_feat(seen['student']))
    target = seen['teacher_out'].argmax(1)
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    raw = [(1 - 0.9999) / (1 - 0.9999**n) for n in COUNTS]
    w = torch.tensor([3 * r / sum(raw) for r in raw])
    per = F.cross_entropy(dist, target, reduction='none')
    assert float(losses['loss_cls']) == pytest.approx(
        0.5 * float(F.cross_entropy(cls, labels)), rel=1e-5)
    assert float(losses['loss_dist']) == pytest.approx(
        0.5 * float((w[target] * per).sum() / w[target].sum()), rel=1e-5)
    assert model.head.drw_weights.tolist() == pytest.approx(w.tolist(),
                                                            rel=1e-5)


def test_class_count_mismatch_is_an_error(teacher_ckpt, tmp_path):
    with pytest.raises(ValueError, match='teacher .* 5 classes, the student 3'):
        MODELS.build(student_cfg(dict(config=teacher_cfg(5),
                                      checkpoint=teacher_ckpt)))
    five = tmp_path / 'five.pth'
    torch.save(dict(state_dict=MODELS.build(teacher_cfg(5)).state_dict()),
               five)
    model = MODELS.build(student_cfg(dict(config=teacher_cfg(),
                                          checkpoint=str(five))))
    with pytest.raises(ValueError, match='trained for 5 classes'):
        model.init_weights()
    model = MODELS.build(student_cfg(dict(config=teacher_cfg(),
                                          checkpoint=str(tmp_path / 'no'))))
    with pytest.raises(FileNotFoundError, match='train the teacher first'):
        model.init_weights()
    with pytest.raises(RuntimeError, match='init_weights'):
        model.loss(torch.zeros(1, 3, 16, 16),
                   [DataSample().set_gt_label(0)])


def test_teacher_from_a_config_file(teacher_ckpt, tmp_path):
    """A teacher config keeps mean / std in the top-level data_preprocessor
    (as mmpretrain configs do); the teacher must normalise with them."""
    model_cfg = teacher_cfg()
    preprocessor = model_cfg.pop('data_preprocessor')
    cfg = tmp_path / 'teacher.py'
    cfg.write_text(
        "custom_imports = dict(imports=['mmlt.classification'], "
        "allow_failed_imports=False)\n"
        f'model = {model_cfg!r}\n'
        f'data_preprocessor = {preprocessor!r}\n')
    model = MODELS.build(student_cfg(dict(config=str(cfg),
                                          checkpoint=teacher_ckpt)))
    model.init_weights()
    assert model.teacher_loaded and type(model.teacher).__name__ == \
        'ImageClassifier'
    x = torch.randn(2, 3, 16, 16)
    assert torch.allclose(model.teacher_inputs(x), to_teacher_space(x),
                          atol=1e-4)


def test_cls_dist_avg_metrics_hand_made():
    init_default_scope('mmpretrain')
    head = MODELS.build(dict(type='DeiTLTClsHead', num_classes=3,
                             in_channels=3))
    with torch.no_grad():
        for layer in (head.layers.head, head.layers.head_dist):
            layer.weight.copy_(torch.eye(3))
            layer.bias.zero_()
    head.eval()
    cls = torch.tensor([[3., 0, 0], [3, 0, 0], [1, 0, 0], [0, 2, 0],
                        [1, 0, 0], [4, 0, 0]])
    dist = torch.tensor([[2., 0, 0], [0, 1, 0], [0, 3, 0], [0, 2, 0],
                         [0, 0, 3], [0, 0, 2]])
    gt = [0, 0, 1, 1, 2, 2]
    samples = head.predict(((cls, dist), ),
                           [DataSample().set_gt_label(y) for y in gt])
    for s, c, d in zip(samples, cls, dist):
        assert torch.allclose(s.pred_score, F.softmax((c + d) / 2, 0))
        assert torch.allclose(s.cls_score, F.softmax(c, 0))
        assert torch.allclose(s.dist_score, F.softmax(d, 0))
    groups = dict(many=(0, 1), medium=(1, 2), few=(2, 3))
    evaluator = Evaluator([
        dict(type='LongTailAccuracy', class_groups=groups,
             pred_key=key, prefix=prefix)
        for key, prefix in (('cls_score', 'lt_cls'), ('dist_score',
                                                      'lt_dist'),
                            ('pred_score', 'lt_avg'))
    ])
    evaluator.dataset_meta = dict(classes=('a', 'b', 'c'))
    evaluator.process(samples)
    metrics = evaluator.evaluate(len(samples))
    # predictions: CLS 0 0 0 1 0 0, DIST 0 1 1 1 2 2, average 0 0 1 1 2 0
    expected = {
        'lt_cls': (50.0, 100.0, 50.0, 0.0),
        'lt_dist': (500 / 6, 50.0, 100.0, 100.0),
        'lt_avg': (500 / 6, 100.0, 100.0, 50.0),
    }
    for prefix, (top1, many, medium, few) in expected.items():
        assert metrics[f'{prefix}/top1'] == pytest.approx(top1)
        assert metrics[f'{prefix}/many'] == pytest.approx(many)
        assert metrics[f'{prefix}/medium'] == pytest.approx(medium)
        assert metrics[f'{prefix}/few'] == pytest.approx(few)
