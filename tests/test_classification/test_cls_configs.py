"""Every classification config loads, builds its model, and each stage-2
config calibrates the model of the stage-1 config its load_from names."""
import copy
import functools
import re
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmlt.classification  # noqa: F401
from mmlt.classification import cifar_lt_counts
from mmlt.stage2 import check_stage1_state_dict

REPO = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def load(path) -> Config:
    """Parse once (deep inheritance chains take ~1 s); callers copy before
    changing anything."""
    return Config.fromfile(str(path))


CONFIGS = sorted(
    [p for p in (REPO / 'configs' / 'imagenet_lt').glob('*.py')] +
    [p for p in (REPO / 'configs' / 'cifar_lt').glob('*.py')] +
    [p for p in (REPO / 'configs' / 'demo').glob('cls_*.py')] +
    # the bases these configs share
    [REPO / 'configs' / '_base_' / rel for rel in (
        'datasets/imagenet-lt_bs32.py',
        'stage1/resnet32_1xb128-200e_cifar-lt.py',
        'stage2/resnet32_disalign_1xb128-10e_cifar-lt.py')])
FULL = [p for p in CONFIGS
        if 'model' in load(p) and 'train_dataloader' in load(p)]
STAGE2 = [p for p in FULL if load(p).get('runner_type') == 'DisAlignRunner'
          and load(p).model.head.type.startswith('DisAlign')]
# the decoupled baselines' stage-2 configs: the new keys each adds to a
# stage-1 checkpoint (none for the post-hoc ones)
BASELINE_KEYS = {
    'LogitAdjustedLinearClsHead': [], 'LogitAdjustedCosineLinearClsHead': [],
    'TauNormLinearClsHead': [], 'LWSLinearClsHead': ['head.fc.calibration.scale'],
    'RetrainedLinearClsHead': ['head.fc.retrained.bias',
                               'head.fc.retrained.weight']}
BASELINES = [p for p in FULL if load(p).model.head.type in BASELINE_KEYS]


def name(path):
    return f'{path.parent.name}/{path.stem}'


def stage1_of(path) -> Path:
    """The stage-1 config a stage-2 config's ``load_from`` names: the
    default work dir of a config of its folder, ``work_dirs/<stem>``."""
    cfg = load(path)
    match = re.fullmatch(r'work_dirs/([\w.-]+)', cfg.load_from)
    assert match, cfg.load_from
    stage1 = path.parent / f'{match[1]}.py'
    assert stage1.is_file(), (path, cfg.load_from)
    return stage1


def build_model(cfg):
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    model = copy.deepcopy(cfg.model)
    for part in (model.head.loss, model.head):
        if part.get('frequency_file'):  # the real data is not here
            part.pop('frequency_file')
            part.class_counts = list(range(model.head.num_classes, 0, -1))
    return MODELS.build(model)


def test_the_expected_configs_exist():
    names = {name(p) for p in FULL}
    for arch in ('resnet50', 'resnet50-cos', 'resnext50-32x4d',
                 'resnext50-32x4d-cos'):
        assert f'imagenet_lt/{arch}_8xb32-90e_imagenet-lt' in names
        assert f'imagenet_lt/{arch}_disalign_8xb32-10e_imagenet-lt' in names
    for data in ('cifar10', 'cifar100'):
        for ratio in (100, 50):
            assert f'cifar_lt/resnet32_1xb128-200e_{data}-lt-ir{ratio}' in names
            assert (f'cifar_lt/resnet32_disalign_1xb128-10e_{data}-lt-ir'
                    f'{ratio}') in names
    assert {'demo/cls_stage1', 'demo/cls_stage2', 'demo/cls_stage2_paper',
            'demo/cls_stage1_cosine', 'demo/cls_stage2_cosine'} <= names
    assert len(STAGE2) == 4 + 4 + 3


@pytest.mark.parametrize('path', CONFIGS, ids=name)
def test_config_loads(path):
    cfg = load(path)
    if 'model' in cfg:
        assert cfg.default_scope == 'mmpretrain'
        assert 'mmlt.classification' in cfg.custom_imports.imports


@pytest.mark.parametrize('path', STAGE2, ids=name)
def test_stage2_config_matches_its_stage1(path):
    cfg = load(path)
    folder = path.parent.name
    # load_from is that stage 1's work dir (its latest checkpoint)
    stage1 = load(stage1_of(path))
    assert stage1.get('runner_type') is None
    assert cfg.model.head.loss.type == 'GRWKLLoss'
    cosine = 'Cosine' in cfg.model.head.type
    assert cfg.model.head.type == ('DisAlignCosineLinearClsHead' if cosine
                                   else 'DisAlignLinearClsHead')
    assert stage1.model.head.type == ('CosineLinearClsHead' if cosine else
                                      'LinearClsHead')
    if folder == 'imagenet_lt':
        # the paper's schedules and rho
        assert cfg.model.head.loss.rho == (1.5 if cosine else 1.2)
        assert (stage1.train_cfg.max_epochs, cfg.train_cfg.max_epochs) == (
            90, 10)
        assert cfg.train_dataloader.batch_size * 8 == 256
    new, unexpected = check_stage1_state_dict(
        build_model(cfg), build_model(stage1).state_dict())
    assert sorted(new) == sorted(
        f'head.fc.calibration.{k}' for k in
        ('magnitude', 'margin', 'confidence.weight', 'confidence.bias'))
    assert unexpected == []


@pytest.mark.parametrize('path', [p for p in FULL if 'cifar_lt' in str(p)],
                         ids=name)
def test_cifar_lt_config_counts_and_groups(path):
    from mmpretrain.registry import METRICS
    cfg = load(path)
    classes = 100 if 'cifar100' in path.stem else 10
    ratio = int(re.search(r'ir(\d+)', path.stem)[1])
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == f'CIFAR{classes}LT'
    assert dataset.imbalance_ratio == ratio
    assert cfg.test_dataloader.dataset.split == 'test'
    # the counts the loss and metric use are those the dataset produces
    assert cfg.class_counts == cifar_lt_counts(classes, ratio)
    assert cfg.model.head.num_classes == classes
    if cfg.get('runner_type'):
        assert cfg.model.head.loss.class_counts == cfg.class_counts
    metric = METRICS.build(copy.deepcopy(cfg.val_evaluator))
    sizes = {k: len(v) for k, v in metric.groups.items()}
    expected = {
        # CIFAR-10: DeiT-LT's index split; CIFAR-100: > 100 / < 20 images
        (10, 100): (3, 4, 3), (10, 50): (3, 4, 3),
        (100, 100): (35, 35, 30), (100, 50): (41, 41, 18),
    }[classes, ratio]
    assert sizes == dict(zip(('many', 'medium', 'few'), expected))


def test_the_baseline_configs_exist():
    names = {name(p) for p in BASELINES}
    for method in ('logit-adjustment', 'tau-norm', 'crt', 'lws'):
        assert f'demo/cls_{method}' in names
    assert {'imagenet_lt/resnet50_logit-adjustment_imagenet-lt',
            'imagenet_lt/resnet50_tau-norm_imagenet-lt',
            'imagenet_lt/resnet50_crt_8xb32-10e_imagenet-lt',
            'imagenet_lt/resnet50_lws_8xb32-10e_imagenet-lt'} <= names


@pytest.mark.parametrize('path', BASELINES, ids=name)
def test_baseline_config_fits_its_stage1(path):
    cfg = load(path)
    head = cfg.model.head.type
    assert cfg.runner_type == 'DisAlignRunner'
    if BASELINE_KEYS[head]:  # cRT / LWS: class-balanced, cross-entropy
        assert cfg.train_dataloader.sampler.type == 'ClassBalancedSampler'
        assert cfg.model.head.loss.type == 'CrossEntropyLoss'
    # the stage 1 of its load_from (its work dir) is a plain stage 1
    stage1 = load(stage1_of(path))
    assert stage1.get('runner_type') is None
    if not BASELINE_KEYS[head]:
        # post hoc: tau named, so that choose_tau.py can write it back
        assert 'tau' in cfg.model.head
    # the same model with the stock head: what stage 1 trained
    stock = copy.deepcopy(cfg)
    stock.model.head = dict(
        type='CosineLinearClsHead' if 'Cosine' in head else 'LinearClsHead',
        num_classes=cfg.model.head.num_classes,
        in_channels=cfg.model.head.in_channels,
        loss=dict(type='CrossEntropyLoss'))
    assert stock.model.head.type == stage1.model.head.type
    new, unexpected = check_stage1_state_dict(
        build_model(cfg), build_model(stock).state_dict())
    assert sorted(new) == BASELINE_KEYS[head] and unexpected == []


def test_demo_stage2_defaults_to_the_demo_stage1_checkpoint():
    stage1 = load(REPO / 'configs/demo/cls_stage1.py')
    stage2 = load(REPO / 'configs/demo/cls_stage2.py')
    # the work dir of `python tools/train.py configs/demo/cls_stage1.py`:
    # the runner loads its latest checkpoint
    assert stage2.load_from == 'work_dirs/cls_stage1'
    assert stage1_of(REPO / 'configs/demo/cls_stage2.py') == \
        REPO / 'configs/demo/cls_stage1.py'
    assert stage1.model.backbone.type == 'CifarResNet'
    assert stage1.model.backbone.get('init_cfg') is None  # from scratch
