"""DeiT-LT end to end in mmengine's Runner on tiny in-memory data: the teacher
recipe (LDAM + DRW + SAM) trains and gives the checkpoint the student loads;
the student's DRW switches on at epoch K, and a run resumed from the
checkpoint after K comes back switched; CLS / DIST / average are evaluated
in one test run."""
import copy

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmlt.classification  # noqa: F401
import mmlt.classification.deit_lt  # noqa: F401
import mmlt.classification.drw  # noqa: F401
import mmlt.classification.ldam  # noqa: F401
import mmlt.classification.sam  # noqa: F401
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, HOOKS

COUNTS = [12, 6, 2]
K = 1  # DRW from the second epoch (0-based index 1)


@pytest.fixture(scope='module', autouse=True)
def safe_checkpoint_loader():
    """In-process Runners resume here: mmengine's local loader as the
    tools set it (weights_only with mmlt's allow-list)."""
    from mmlt.engine import safe_checkpoint_loader
    with safe_checkpoint_loader():
        yield


@DATASETS.register_module(force=True)
class TinyShapes(BaseDataset):
    """Three classes of 16x16 images (a bright row band at a class-dependent
    height plus noise), long-tailed 12 / 6 / 2."""
    METAINFO = dict(classes=('a', 'b', 'c'))

    def __init__(self, **kwargs):
        super().__init__(ann_file='', serialize_data=False, **kwargs)

    def load_data_list(self):
        rng = np.random.RandomState(0)
        data = []
        for label, count in enumerate(COUNTS):
            for _ in range(count):
                img = rng.randint(0, 60, (16, 16, 3)).astype(np.uint8)
                img[4 * label + 2:4 * label + 6] += 150
                data.append(dict(img=img, gt_label=label))
        return data


@HOOKS.register_module(force=True)
class RecordDRW(Hook):
    """Records, at every training iteration, the DRW state the model is in."""

    def __init__(self):
        self.records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model
        self.records.append(
            (runner.epoch, model.drw, model.head.drw,
             model.data_preprocessor.batch_augments is None))


def loader(shuffle):
    return dict(
        dataset=dict(type='TinyShapes', pipeline=[dict(type='PackInputs')]),
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        batch_size=8,
        num_workers=0)


TEACHER = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='CosineLinearClsHead', num_classes=3, in_channels=64,
              scale=1.0, learnable_scale=False,
              loss=dict(type='LDAMLoss', max_margin=0.5, scale=30)),
    data_preprocessor=dict(num_classes=3, mean=[60.] * 3, std=[60.] * 3))


def runner(work_dir, model, hooks, max_epochs, optim_wrapper, **extra):
    evaluator = extra.pop('evaluator', dict(
        type='LongTailAccuracy',
        class_groups=dict(many=(0, 1), medium=(1, 2), few=(2, 3))))
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=loader(True),
        val_dataloader=loader(False),
        test_dataloader=loader(False),
        val_evaluator=evaluator,
        test_evaluator=evaluator,
        val_cfg=dict(),
        test_cfg=dict(),
        optim_wrapper=optim_wrapper,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs,
                       val_interval=max_epochs),
        custom_hooks=hooks,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        log_level='WARNING',
        randomness=dict(seed=0),
        default_scope='mmpretrain',
        **extra)


@pytest.fixture(scope='module')
def teacher_run(tmp_path_factory):
    """The teacher recipe in the standard runner: LDAM + DRW + SAM."""
    init_default_scope('mmpretrain')
    work_dir = tmp_path_factory.mktemp('teacher')
    run = runner(
        work_dir, copy.deepcopy(TEACHER),
        [dict(type='DRWHook', start_epoch=K)], 2,
        dict(type='SAMOptimWrapper', rho=0.05,
             optimizer=dict(type='SGD', lr=0.05, momentum=0.9)))
    run.train()
    return run, str(work_dir / 'epoch_2.pth')


def test_teacher_recipe_trains_with_ldam_drw_sam(teacher_run):
    run, ckpt = teacher_run
    loss = run.model.head.loss_module
    assert type(run.optim_wrapper).__name__ == 'SAMOptimWrapper'
    assert loss.class_counts == COUNTS  # from the training set
    assert loss.drw  # switched on at K
    ckpt_state = torch.load(ckpt, weights_only=False)['state_dict']
    assert 'head.fc.weight' in ckpt_state
    assert run.message_hub.get_scalar('train/loss') is not None


def student(ckpt):
    return dict(
        type='DeiTLTClassifier',
        backbone=dict(
            type='DistilledVisionTransformer',
            arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                      feedforward_channels=32),
            img_size=16, patch_size=4),
        head=dict(type='DeiTLTClsHead', num_classes=3, in_channels=16,
                  drw_beta=0.9999),
        data_preprocessor=dict(num_classes=3, mean=[60.] * 3,
                               std=[60.] * 3),
        train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8),
                                 dict(type='CutMix', alpha=1.0)]),
        teacher=dict(config=copy.deepcopy(TEACHER), checkpoint=ckpt,
                     img_size=None))


THREE_HEADS = [
    dict(type='LongTailAccuracy',
         class_groups=dict(many=(0, 1), medium=(1, 2), few=(2, 3)),
         pred_key=key, prefix=prefix)
    for key, prefix in (('cls_score', 'lt_cls'), ('dist_score', 'lt_dist'),
                        ('pred_score', 'lt_avg'))
]
ADAMW = dict(optimizer=dict(type='AdamW', lr=1e-3))


def records(run):
    return [h for h in run.hooks if isinstance(h, RecordDRW)][0].records


def test_student_drw_switch_at_k_and_after_resume(teacher_run, tmp_path):
    _, teacher_ckpt = teacher_run
    hooks = [dict(type='DRWHook', start_epoch=K), dict(type='RecordDRW')]
    run = runner(tmp_path, student(teacher_ckpt), hooks, K + 1, ADAMW,
                 evaluator=THREE_HEADS)
    run.train()
    seen = records(run)
    assert {r for r in seen if r[0] < K} == {(0, False, False, False)}
    assert {r for r in seen if r[0] >= K} == {(K, True, True, True)}
    raw = [(1 - 0.9999) / (1 - 0.9999**n) for n in COUNTS]
    assert run.model.head.drw_weights.tolist() == pytest.approx(
        [3 * r / sum(raw) for r in raw], rel=1e-5)
    teacher_state = copy.deepcopy(run.model.teacher.state_dict())
    ckpt = torch.load(tmp_path / f'epoch_{K}.pth', weights_only=False)
    assert not any(k.startswith('teacher') for k in ckpt['state_dict'])

    # new runners resumed from the checkpoints written after epoch index
    # K - 1 (runner.epoch == K) and after epoch index K (runner.epoch ==
    # K + 1, past the switch): built with DRW off, they come back switched
    for done in (K, K + 1):
        resumed = runner(tmp_path / f'resumed{done}', student(teacher_ckpt),
                         hooks, K + 3, ADAMW, evaluator=THREE_HEADS,
                         resume=True,
                         load_from=str(tmp_path / f'epoch_{done}.pth'))
        assert not resumed.model.drw and not resumed.model.head.drw
        resumed.train()
        seen = records(resumed)
        assert {r[0] for r in seen} == set(range(done, K + 3))
        assert {r[1:] for r in seen} == {(True, True, True)}
        for key, value in resumed.model.teacher.state_dict().items():
            assert torch.equal(value, teacher_state[key]), key

    # CLS, DIST and their average in one test run
    metrics = resumed.test()
    for prefix in ('lt_cls', 'lt_dist', 'lt_avg'):
        for part in ('top1', 'many', 'medium', 'few'):
            assert 0 <= metrics[f'{prefix}/{part}'] <= 100


def test_resume_before_k_stays_off_until_k(teacher_run, tmp_path):
    _, teacher_ckpt = teacher_run
    hooks = [dict(type='DRWHook', start_epoch=2), dict(type='RecordDRW')]
    run = runner(tmp_path, student(teacher_ckpt), hooks, 1, ADAMW,
                 evaluator=THREE_HEADS)
    run.train()
    resumed = runner(tmp_path / 'resumed', student(teacher_ckpt), hooks, 3,
                     ADAMW, evaluator=THREE_HEADS, resume=True,
                     load_from=str(tmp_path / 'epoch_1.pth'))
    resumed.train()
    seen = set(records(resumed))
    assert seen == {(1, False, False, False), (2, True, True, True)}
