"""The LVIS v1 and LT-Digits detection configs: they load, build their
models (no weights downloaded), say what the paper's stage 2 says, and a
stage-1 model's checkpoint fits its stage-2 model with only the calibration
keys new."""
import functools
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlt.detection  # noqa: F401
from mmlt.core import calibration
from mmlt.stage2 import check_stage1_state_dict

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LVIS = osp.join(ROOT, 'configs/lvis')
LVIS_CONFIGS = sorted(
    osp.basename(p) for p in glob.glob(osp.join(LVIS, '*.py')))
STAGE2 = [
    'mask-rcnn_disalign.py',
    'mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py',
    'mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py',
    'cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py',
]
# (stage 1, stage 2): the stage-1 configs named in each stage-2 config (the
# first of each: its load_from)
PAIRS = [
    ('mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py', 'mask-rcnn_disalign.py'),
    ('mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
     'mask-rcnn_disalign.py'),
    ('mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py', 'mask-rcnn_disalign.py'),
    ('mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1.py',
     'mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py'),
    ('mask-rcnn_r50_fpn_cosine_random-ms-1x_lvis-v1.py',
     'mask-rcnn_r50_fpn_disalign-cosine_9k_lvis-v1.py'),
    ('mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py',
     'mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py'),
    ('cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py',
     'cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py'),
]


def load(name):
    if name.startswith('mmdet::'):
        import mmdet
        name = osp.join(osp.dirname(mmdet.__file__), '.mim/configs',
                        name[len('mmdet::'):])
        return Config.fromfile(name)
    return Config.fromfile(osp.join(LVIS, name))


def stage1_of(name):
    """The stage-1 config of this folder whose default work dir,
    ``work_dirs/<stem>``, a stage-2 config's ``load_from`` names."""
    load_from = load(name).load_from
    assert load_from.startswith('work_dirs/'), load_from
    stage1 = load_from[len('work_dirs/'):] + '.py'
    assert osp.isfile(osp.join(LVIS, stage1)), load_from
    assert load(stage1).get('runner_type') is None  # a plain stage 1
    return stage1


def bbox_heads(model_cfg):
    heads = model_cfg.roi_head.bbox_head
    return heads if isinstance(heads, list) else [heads]


@functools.lru_cache(maxsize=None)
def build_named(name):
    return build(load(name))


def build(cfg):
    """The config's model, without downloads or the frequency file (the
    real LVIS files are not here): the G-RW loss gets inline counts."""
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None
    for head in bbox_heads(model_cfg):
        for part in (head.loss_cls, head.get('cls_predictor_cfg') or {}):
            if part.get('frequency_file'):
                part.pop('frequency_file')
                part.class_counts = list(range(head.num_classes, 0, -1))
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('name', LVIS_CONFIGS)
def test_lvis_config_builds(name):
    cfg = load(name)
    assert cfg.default_scope == 'mmdet'
    # the stage-2 and post-hoc configs: LVISMetric with the per-category file
    assert cfg.val_evaluator.type in ('LVISMetric', 'LongTailLVISMetric')
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    assert cfg.test_dataloader.dataset.ann_file == \
        'annotations/lvis_v1_val.json'
    model = build_named(name)
    cascade = name.startswith('cascade')
    for heads in (model.roi_head.bbox_head, model.roi_head.mask_head):
        for head in heads if cascade else [heads]:
            assert head.num_classes == 1203


@pytest.mark.parametrize('name', STAGE2)
def test_lvis_stage2_is_the_papers(name):
    cfg = load(name)
    assert cfg.runner_type == 'DisAlignRunner'
    # the stage-1 run's work dir (its latest checkpoint): the first stage 1
    # of the pairs checked below
    assert (stage1_of(name), name) == next(p for p in PAIRS if p[1] == name)
    assert 'mmlt.detection' in cfg.custom_imports.imports
    assert cfg.model.backbone.init_cfg is None  # nothing to download
    heads = bbox_heads(cfg.model)
    assert len(heads) == (3 if name.startswith('cascade') else 1)
    classifier = 'DisAlignCosineLinear' if 'cosine' in name \
        else 'DisAlignLinear'
    for head in heads:
        assert head.cls_predictor_cfg.type == classifier
        assert head.loss_cls == dict(
            type='GRWKLLoss',
            frequency_file='data/lvis_v1/lvis_v1_train_frequency.json',
            rho=0.8,
            loss_weight=1.0)
    # 9k iterations, lr 0.02 at batch 16 (8 GPUs x 2), uniform sampler
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == 9000
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_dataloader.batch_size * 8 == 16
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_dataloader.dataset.type == 'LVISV1Dataset'
    assert 'oversample_thr' not in cfg.train_dataloader.dataset
    assert cfg.train_dataloader.dataset.ann_file == \
        'annotations/lvis_v1_train.json'
    assert cfg.param_scheduler[-1].end == 9000
    assert cfg.default_hooks.checkpoint.interval == 9000


@pytest.mark.parametrize('name, classifier, new', [
    ('mask-rcnn_r50_fpn_logit-adjustment_lvis-v1.py', 'LogitAdjustedLinear',
     []),
    ('mask-rcnn_r50_fpn_tau-norm_lvis-v1.py', 'TauNormLinear', []),
    ('mask-rcnn_r50_fpn_crt_9k_lvis-v1.py', 'RetrainedLinear',
     ['roi_head.bbox_head.fc_cls.retrained.bias',
      'roi_head.bbox_head.fc_cls.retrained.weight']),
])
def test_lvis_baselines_fit_the_stock_stage1(name, classifier, new):
    cfg = load(name)
    assert cfg.runner_type == 'DisAlignRunner'
    head = cfg.model.roi_head.bbox_head
    assert head.cls_predictor_cfg.type == classifier
    if new:  # cRT: the paper's stage-2 schedule, class-aware sampling, CE
        assert cfg.train_cfg.max_iters == 9000
        assert cfg.train_dataloader.sampler.type == 'ClassAwareSampler'
        assert head.loss_cls.type == 'CrossEntropyLoss'
    else:
        assert 'tau' in head.cls_predictor_cfg
    # the stage 1 of its load_from is mmdet's stock model
    stage1 = stage1_of(name)
    models = [load(n).model.to_dict() for n in (
        stage1, 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py')]
    for model in models:
        model.pop('_scope_', None)  # `mmdet::` inheritance adds it
    assert models[0] == models[1]
    stock = build_named(stage1)
    got, unexpected = check_stage1_state_dict(build_named(name),
                                              stock.state_dict())
    assert sorted(got) == new and unexpected == []


def test_lvis_stage1_variants():
    rfs = load('mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py')
    assert rfs.train_dataloader.dataset.type == 'ClassBalancedDataset'
    for name in ('mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py',
                 'mask-rcnn_r50_fpn_cosine_random-ms-1x_lvis-v1.py'):
        cfg = load(name)
        assert cfg.train_dataloader.dataset.type == 'LVISV1Dataset'
        assert [t.type for t in cfg.train_dataloader.dataset.pipeline] == \
            [t.type for t in rfs.train_pipeline]
    cfg = load('mask-rcnn_r50_fpn_cosine_sample1e-3_ms-1x_lvis-v1.py')
    assert cfg.train_dataloader.dataset.type == 'ClassBalancedDataset'
    assert cfg.model.roi_head.bbox_head.cls_predictor_cfg == dict(
        type='CosineLinear', scale=20.0)
    cascade = load('cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py')
    assert cascade.train_dataloader.dataset.type == 'ClassBalancedDataset'


@pytest.mark.parametrize('stage1,stage2', PAIRS,
                         ids=[f'{a.split("/")[-1]}->{b}' for a, b in PAIRS])
def test_stage1_checkpoint_fits_stage2(stage1, stage2):
    model1, model2 = build_named(stage1), build_named(stage2)
    new, unexpected = check_stage1_state_dict(model2, model1.state_dict())
    heads = len(bbox_heads(load(stage2).model))
    assert len(new) == 4 * heads  # alpha, beta, sigma's weight and bias
    assert all('bbox_head' in k and '.fc_cls.calibration.' in k for k in new)
    assert unexpected == []
    calibrated = [m for m in model2.modules()
                  if isinstance(m, (calibration.DisAlignLinear,
                                    calibration.DisAlignCosineLinear))]
    assert len(calibrated) == heads


def test_demo_configs():
    stage1 = Config.fromfile(osp.join(ROOT, 'configs/demo/det_stage1.py'))
    stage2 = Config.fromfile(osp.join(ROOT, 'configs/demo/det_stage2.py'))
    assert stage2.runner_type == 'DisAlignRunner'
    # the plain demo command works: stage 2 loads the latest checkpoint of
    # stage 1's work dir (`python tools/train.py configs/demo/det_stage1.py`)
    assert stage2.load_from == 'work_dirs/det_stage1'
    assert stage2.model.roi_head.bbox_head.loss_cls.frequency_file == \
        stage1.frequency_file
    for cfg in (stage1, stage2):
        assert cfg.test_evaluator.type == 'LongTailLVISMetric'
        assert cfg.train_dataloader.dataset.type == 'LVISV1Dataset'
        assert cfg.train_dataloader.dataset.metainfo.classes == \
            tuple(f'digit_{i}' for i in range(10))
    new, unexpected = check_stage1_state_dict(
        build(stage2), build(stage1).state_dict())
    assert len(new) == 4 and unexpected == []
