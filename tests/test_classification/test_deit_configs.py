"""Every DeiT-LT config (configs/deit_lt, configs/demo/deit_*) loads with
``Config.fromfile`` and builds: model (students with a tiny ViT instead of
DeiT-B; teachers as configured), optimizer wrapper, parameter schedulers,
hooks, pipelines, metrics. Real datasets are not needed."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    str(p.relative_to(REPO))
    for p in list((REPO / 'configs' / 'deit_lt').glob('*.py')) +
    list((REPO / 'configs' / 'demo').glob('deit_*.py')))
TINY_VIT = dict(embed_dims=32, num_layers=1, num_heads=2,
                feedforward_channels=64)


@pytest.fixture(autouse=True)
def repo_root(monkeypatch):
    # config paths (teacher configs, data roots) are relative to the repo
    monkeypatch.chdir(REPO)


def load(path):
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    return cfg


def test_all_configs_are_listed():
    names = {Path(p).name for p in CONFIGS}
    for dataset in ('cifar10-lt-ir100', 'cifar10-lt-ir50', 'cifar100-lt-ir100',
                    'cifar100-lt-ir50', 'imagenet-lt'):
        assert any(dataset in n and n.startswith('deit-lt_') for n in names)
        assert any(dataset in n and n.startswith('resnet') for n in names)
    assert {'deit_teacher.py', 'deit_student.py', 'deit_plain.py'} <= names


def build_model(cfg):
    from mmpretrain.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    backbone = model_cfg.backbone
    if backbone.type.endswith('VisionTransformer') and \
            backbone.arch == 'deit-base':
        backbone.arch = TINY_VIT
        model_cfg.head.in_channels = TINY_VIT['embed_dims']
    if model_cfg.head.get('frequency_file'):  # the data is not made here
        model_cfg.head.pop('frequency_file')
        model_cfg.head.class_counts = list(
            range(model_cfg.head.num_classes, 0, -1))
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds(path):
    from mmpretrain.registry import (DATASETS, HOOKS, METRICS, MODELS,
                                     TRANSFORMS)
    cfg = load(path)
    model = build_model(cfg)
    num_classes = cfg.data_preprocessor.num_classes
    assert model.head.num_classes == num_classes
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    for sched in cfg.param_scheduler:
        sched = dict(sched)
        if sched.get('convert_to_iter_based'):
            sched['epoch_length'] = 10
        PARAM_SCHEDULERS.build(sched, default_args=dict(optimizer=optim))
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(copy.deepcopy(hook))
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert DATASETS.get(dataset.type) is not None, dataset.type
        for step in dataset.pipeline:
            TRANSFORMS.build(copy.deepcopy(step))
    metrics = cfg.test_evaluator
    for metric in metrics if isinstance(metrics, list) else [metrics]:
        if 'frequency_file' in metric:  # needs the real training list
            continue
        built = METRICS.build(copy.deepcopy(metric))
        assert built.num_classes == num_classes
    if cfg.model.type == 'DeiTLTClassifier':
        check_student(cfg, model)
    assert MODELS.get(cfg.model.type) is not None


def check_student(cfg, model):
    """The student: DeiT-B settings, teacher from its config, DRW at K."""
    teacher_cfg = Config.fromfile(cfg.model.teacher.config)
    assert model.teacher is not None and not model.teacher_loaded
    assert model.teacher.head.num_classes == model.head.num_classes
    # the teacher run's work dir: work_dirs/<the teacher config's name>
    assert teacher_cfg.filename.endswith('.py')
    assert cfg.model.teacher.checkpoint == 'work_dirs/' + Path(
        teacher_cfg.filename).stem
    drw = [h for h in cfg.custom_hooks if h.type == 'DRWHook']
    assert len(drw) == 1 and 0 < drw[0].start_epoch < \
        cfg.train_cfg.max_epochs
    if 'demo' in cfg.filename:
        return
    backbone = cfg.model.backbone
    assert backbone.arch == 'deit-base' and backbone.patch_size == 16
    assert backbone.type == 'DistilledVisionTransformer'
    assert cfg.model.train_cfg.augments[0].type == 'Mixup'
    epochs = cfg.train_cfg.max_epochs
    assert (epochs, drw[0].start_epoch) in ((1200, 1100), (1400, 1200))
    size = cfg.model.teacher.img_size
    assert size == (32 if 'cifar' in cfg.filename else None)
    # the student's normalisation is converted to the teacher's
    x = torch.zeros(1, 3, 224, 224)
    assert model.teacher_inputs(x).shape[-1] == (size or 224)


def test_imagenet_lt_teacher_rho_schedule():
    cfg = load('configs/deit_lt/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt.py')
    model = torch.nn.Linear(2, 2)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    scheds = [PARAM_SCHEDULERS.build(dict(s), default_args=dict(
        optimizer=optim)) for s in cfg.param_scheduler]
    rho = []
    for _ in range(cfg.train_cfg.max_epochs):
        rho.append(optim.param_groups[0]['rho'])
        for s in scheds:
            s.step()
    assert rho[0] == pytest.approx(0.05) and rho[4] == pytest.approx(0.05)
    assert rho[5] == pytest.approx(0.1) and rho[59] == pytest.approx(0.1)
    assert rho[60] == pytest.approx(0.5) and rho[89] == pytest.approx(0.5)
