"""One stage-1 -> stage-2 link rule for every task: each stage-2 config
(DisAlign, cRT, LWS, logit adjustment, tau-norm; every folder, the demo's
too) sets ``load_from = 'work_dirs/<stage-1 config file stem>'``, the
default work dir of a stage-1 config of its own folder, whose latest
checkpoint the runner loads. And no config the users run is a base: those
are in configs/_base_."""
import functools
from pathlib import Path

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs'
LEAVES = sorted(p for p in CONFIGS.glob('*/*.py') if p.parent.name != '_base_')


@functools.lru_cache(maxsize=None)
def load(path: Path) -> Config:
    from mmlt.engine import setup_runtime
    setup_runtime()  # the `mmlt::` prefix, should a config use it
    return Config.fromfile(str(path))


def name(path: Path) -> str:
    return f'{path.parent.name}/{path.stem}'


STAGE2 = [p for p in LEAVES if load(p).get('runner_type') == 'DisAlignRunner']


def test_every_folder_has_stage2_configs():
    folders = {p.parent.name for p in STAGE2}
    assert folders == {'ade20k', 'cifar_lt', 'demo', 'imagenet_lt', 'lvis'}
    assert len(STAGE2) >= 40


@pytest.mark.parametrize('path', STAGE2, ids=name)
def test_stage2_loads_its_stage1_work_dir(path):
    load_from = load(path).load_from
    assert isinstance(load_from, str) and load_from.startswith('work_dirs/')
    stem = load_from[len('work_dirs/'):]
    assert '/' not in stem and not stem.endswith('.pth'), load_from
    stage1 = path.parent / f'{stem}.py'
    assert stage1.is_file(), f'{name(path)}: {load_from} names no config'
    assert load(stage1).get('runner_type') is None  # a plain stage 1
    # the same toolbox (and the same model type) as the stage 2
    assert load(stage1).default_scope == load(path).default_scope
    assert load(stage1).model.type == load(path).model.type


@pytest.mark.parametrize('path', LEAVES, ids=name)
def test_leaf_configs_are_complete_runs(path):
    """A config users run has a model, its data and a schedule (a shared
    body without them belongs in configs/_base_)."""
    cfg = load(path)
    for key in ('model', 'train_dataloader', 'test_dataloader', 'train_cfg',
                'default_scope'):
        assert key in cfg, f'{name(path)} has no {key}'
