"""DisAlign for detection trained for real on tiny LT-Digits data (LVIS v1
format) with the demo configs, the standard Runner and DisAlignRunner:
stage 2 changes only the calibration, starts from stage 1's scores exactly,
leaves the background score alone, evaluates with mmdet's LVISMetric, and
works with RFS and with Cascade Mask R-CNN."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmlt.detection  # noqa: F401
from mmlt.core import AdaptiveCalibration
from mmlt.engine.compat import fix_numpy_aliases_for_lvis
from mmlt.stage2 import (check_stage1_state_dict, freeze_except_calibration,
                        keep_norm_layers_in_eval)
from mmlt.lt_digits import LT_DIGITS_CLASSES

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGE1 = osp.join(ROOT, 'configs/demo/det_stage1.py')
STAGE2 = osp.join(ROOT, 'configs/demo/det_stage2.py')
STAGE2_PAPER = osp.join(ROOT, 'configs/demo/det_stage2_paper.py')
LVIS_KEYS = [f'lvis/{kind}_{ap}' for kind in ('bbox', 'segm')
             for ap in ('AP', 'APr', 'APc', 'APf')]


@pytest.fixture(scope='module')
def data_root(lt_digits_det):
    return lt_digits_det


def tiny(config, data_root, work_dir, iters, cosine=False, **extra):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    cfg.default_hooks.logger.interval = 1
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].batch_size = 2
    cfg.train_dataloader.dataset.indices = 8
    cfg.val_dataloader.dataset.indices = 4
    cfg.test_dataloader = cfg.val_dataloader
    ann = data_root + 'annotations/lvis_v1_val.json'
    cfg.val_evaluator.ann_file = cfg.test_evaluator.ann_file = ann
    head = cfg.model.roi_head.bbox_head
    freq = data_root + 'lvis_v1_train_frequency.json'
    if head.loss_cls.type == 'GRWKLLoss':
        head.loss_cls.frequency_file = freq
    predictor = head.get('cls_predictor_cfg', dict(type='Linear'))
    if cosine:
        head.cls_predictor_cfg = dict(predictor, type={
            'Linear': 'CosineLinear',
            'DisAlignLinear': 'DisAlignCosineLinear'
        }[predictor['type']])
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
    cfg.train_cfg.val_begin = iters + 1  # no validation while training
    cfg.default_hooks.checkpoint.interval = iters
    cfg.param_scheduler = [
        dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0,
             end=iters)
    ]
    # larger steps than the demo's so that a few iterations move weights
    cfg.optim_wrapper.optimizer.lr = 0.05
    cfg.merge_from_dict(extra)
    return cfg


def train_stage1(data_root, work_dir, cosine):
    runner = Runner.from_cfg(
        tiny(STAGE1, data_root, work_dir, 4, cosine=cosine))
    runner.train()
    return runner, str(work_dir / 'iter_4.pth'), cosine


@pytest.fixture(scope='module')
def stage1(data_root, tmp_path_factory):
    return train_stage1(data_root, tmp_path_factory.mktemp('det_stage1'),
                        cosine=False)


@pytest.fixture(scope='module')
def stage1_cosine(data_root, tmp_path_factory):
    """Stage 1 with the cosine classifier, for DisAlign* (cosine)."""
    return train_stage1(data_root,
                        tmp_path_factory.mktemp('det_stage1_cosine'),
                        cosine=True)


@pytest.fixture(params=['linear', 'cosine'])
def any_stage1(request):
    return request.getfixturevalue(
        'stage1' if request.param == 'linear' else 'stage1_cosine')


def stage2_cfg(data_root, work_dir, stage1, iters=3, config=STAGE2,
               **extra):
    _, checkpoint, cosine = stage1
    return tiny(config, data_root, work_dir, iters, cosine=cosine,
                load_from=checkpoint, **extra)


def build_stage2(data_root, work_dir, stage1, iters=3, **extra):
    return RUNNERS.build(
        stage2_cfg(data_root, work_dir, stage1, iters, **extra))


def classifier_outputs(model, batch):
    """The RoI classifier's logits for the model's own proposals, and the
    final detections, in eval mode."""
    model.eval()
    seen = []
    hook = model.roi_head.bbox_head.fc_cls.register_forward_hook(
        lambda module, args, out: seen.append(out))
    with torch.no_grad():
        results = model.test_step(copy.copy(batch))
    hook.remove()
    return seen[0], results


def test_stage2_starts_from_stage1_scores_exactly(data_root, any_stage1,
                                                  tmp_path):
    """The paper's recipe starts at the identity; mmlt's recipe starts at
    the logit adjustment (tests/test_stage2/test_disalign_recipe.py)."""
    stage1_runner = any_stage1[0]
    runner = build_stage2(data_root, tmp_path, any_stage1,
                          config=STAGE2_PAPER)
    runner.load_or_resume()
    batch = next(iter(runner.val_dataloader))
    logits1, results1 = classifier_outputs(stage1_runner.model, batch)
    logits2, results2 = classifier_outputs(runner.model, batch)
    assert logits1.shape[1] == len(LT_DIGITS_CLASSES) + 1
    assert torch.equal(logits1, logits2)
    for r1, r2 in zip(results1, results2):
        for key in ('bboxes', 'scores', 'labels', 'masks'):
            assert torch.equal(r1.pred_instances[key], r2.pred_instances[key])


def test_background_score_is_untouched(data_root, any_stage1, tmp_path):
    stage1_runner = any_stage1[0]
    runner = build_stage2(data_root, tmp_path, any_stage1)
    runner.load_or_resume()
    model = runner.model
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, AdaptiveCalibration):
                for param in module.parameters():
                    param.add_(torch.randn(param.shape, generator=gen))
    batch = next(iter(runner.val_dataloader))
    logits1, _ = classifier_outputs(stage1_runner.model, batch)
    logits2, _ = classifier_outputs(model, batch)
    assert torch.equal(logits2[:, -1], logits1[:, -1])
    assert not torch.allclose(logits2[:, :-1], logits1[:, :-1])


def test_stage2_trains_only_the_calibration(data_root, any_stage1,
                                            tmp_path):
    _, checkpoint, cosine = any_stage1
    before = torch.load(checkpoint, weights_only=False)['state_dict']
    runner = build_stage2(data_root, tmp_path, any_stage1)
    runner.train()
    after = runner.model.state_dict()
    new = [k for k in after if k not in before]
    assert sorted(new) == [
        'roi_head.bbox_head.fc_cls.calibration.confidence.bias',
        'roi_head.bbox_head.fc_cls.calibration.confidence.weight',
        'roi_head.bbox_head.fc_cls.calibration.magnitude',
        'roi_head.bbox_head.fc_cls.calibration.margin',
    ]
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == []  # backbone, BN statistics, RPN, fc_cls, fc_reg, mask head
    assert not torch.equal(after[new[2]], torch.ones_like(after[new[2]]))
    assert not torch.equal(after[new[3]], torch.zeros_like(after[new[3]]))
    if cosine:
        assert 'roi_head.bbox_head.fc_cls.scale' in before


@pytest.fixture
def numpy_alias_for_lvis():
    """The fix the tools apply (``setup_runtime``) and a script that builds
    its own Runner calls; removed afterwards (nothing is patched on
    import, and the other tests must not depend on it)."""
    had = hasattr(np, 'float')
    fix_numpy_aliases_for_lvis()
    yield
    if not had:
        del np.float


def test_lvis_metric_box_and_mask(data_root, stage1, tmp_path,
                                  numpy_alias_for_lvis):
    """mmdet's LVISMetric (lvis 0.5.3) on numpy 2, bbox and segm, on the
    stage-1 model (a stage-2 config refuses a stage-1 checkpoint in test)."""
    from mmlt.engine import safe_checkpoint_loader
    _, checkpoint, cosine = stage1
    runner = Runner.from_cfg(tiny(STAGE1, data_root, tmp_path, 1,
                                  cosine=cosine, load_from=checkpoint))
    with safe_checkpoint_loader():  # as tools/test.py reads checkpoints
        metrics = runner.test()
    for key in LVIS_KEYS:
        assert isinstance(metrics[key], float), key
    assert metrics['lvis/bbox_AP'] >= 0 and metrics['lvis/segm_AP'] >= 0


def test_stage2_after_an_rfs_stage1(data_root, stage1, tmp_path):
    """DisAlignRunner reads the class names through ClassBalancedDataset."""
    cfg = stage2_cfg(data_root, tmp_path, stage1, iters=1)
    cfg.train_dataloader.dataset = dict(
        type='ClassBalancedDataset',
        oversample_thr=0.1,
        dataset=cfg.train_dataloader.dataset)
    cfg.work_dir = str(tmp_path / 'rfs')
    runner = RUNNERS.build(cfg)
    runner.train()
    # and it still refuses frequencies of other classes
    cfg.train_dataloader.dataset.dataset.metainfo = dict(
        classes=tuple(f'other_{i}' for i in range(10)))
    cfg.work_dir = str(tmp_path / 'rfs_wrong')
    with pytest.raises(ValueError, match='class names'):
        RUNNERS.build(cfg).train()


def test_cascade_mask_rcnn_stage2_training_step(data_root):
    """The LVIS cascade stage-2 config (R18 backbone for speed): every stage
    calibrated; one real training step on LT-Digits moves the calibration
    of each stage and nothing else."""
    from mmdet.registry import DATASETS, MODELS
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    configs = [
        Config.fromfile(osp.join(ROOT, 'configs/lvis', name)) for name in (
            'cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
            'cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py')
    ]
    models = []
    for cfg in configs:
        cfg.model.backbone.update(depth=18, init_cfg=None)
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        for head in cfg.model.roi_head.bbox_head:
            head.fc_out_channels = 64
            if head.loss_cls.type == 'GRWKLLoss':
                head.loss_cls.frequency_file = None
                head.loss_cls.class_counts = list(range(1203, 0, -1))
        torch.manual_seed(0)
        models.append(MODELS.build(cfg.model))
    stage1, stage2 = models
    stage1.init_weights()
    new, unexpected = check_stage1_state_dict(stage2, stage1.state_dict())
    assert len(new) == 12 and unexpected == []
    stage2.load_state_dict(stage1.state_dict(), strict=False)
    assert all(type(h.fc_cls).__name__ == 'DisAlignLinear'
               for h in stage2.roi_head.bbox_head)
    freeze_except_calibration(stage2)
    keep_norm_layers_in_eval(stage2)
    stage2.train()

    dataset = DATASETS.build(
        dict(
            type='LVISV1Dataset',
            data_root=data_root,
            ann_file='annotations/lvis_v1_train.json',
            data_prefix=dict(img=''),
            metainfo=dict(classes=LT_DIGITS_CLASSES),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                dict(type='Resize', scale=(128, 128), keep_ratio=True),
                dict(type='PackDetInputs')
            ]))
    batch = pseudo_collate([dataset[0], dataset[1]])
    before = copy.deepcopy(stage2.state_dict())
    optim = build_optim_wrapper(
        stage2, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    losses = stage2.train_step(batch, optim)
    for stage in range(3):
        assert f's{stage}.loss_cls' in losses
    after = stage2.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all('.fc_cls.calibration.' in k for k in changed)
    for stage in range(3):
        assert f'roi_head.bbox_head.{stage}.fc_cls.calibration.margin' \
            in changed
