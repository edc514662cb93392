"""A downstream repo on a pip-installed (non-editable) mmlt: its own config
inherits mmlt's with ``_base_ = 'mmlt::demo/cls_stage1.py'`` and trains with
the installed ``mmlt-train`` / ``python -m mmlt train``.

mmlt is built as a user's ``pip install`` builds it: an sdist of this
checkout (so MANIFEST.in and the copy of configs/ and tools/ into mmlt/.mim
are exercised), then a wheel from that sdist, both by the interpreter that
runs the tests (its setuptools, pinned by tools/setup_env.sh). The wheel is
installed into a throwaway venv that layers on this interpreter's
site-packages (the OpenMMLab stack is not reinstalled): the venv's own
site-packages, where mmlt goes, comes first. This works the same from the
system interpreter and from a venv, whatever Python's bundled setuptools is.
The downstream project lives in a temporary folder outside the repo, on tiny
LT-Digits data (as tests/test_classification/test_cls_train.py); stage 1 and DisAlign stage 2
train one short epoch each.
"""
import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mmengine.config import Config

import mmlt
from mmlt.mim import config_root, get_config_path
from tiny_runs import tiny_cls_data

REPO = Path(__file__).resolve().parents[2]
SOURCES = ('setup.py', 'setup.cfg', 'README.md', 'MANIFEST.in',
           'model-index.yml', 'requirements', 'mmlt', 'configs', 'tools')


def run(cmd, cwd, env=None, timeout=300):
    done = subprocess.run([str(c) for c in cmd], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f'{cmd} failed ({done.returncode}):\n{done.stdout[-3000:]}\n'
        f'{done.stderr[-6000:]}')
    return done.stdout


def clean_env():
    """No PYTHONPATH: the venv's python finds only the installed mmlt."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PYTHONWARNINGS'] = 'ignore'
    return env


def outer_site_packages():
    """The site-packages folders of the interpreter running the tests: a
    venv's own (and the base's, with --system-site-packages), or the
    system's. Not the base interpreter's that ``python -m venv`` would see:
    from inside a venv those lack the stack and hold Python's bundled
    setuptools."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


@pytest.fixture(scope='module')
def venv(tmp_path_factory):
    """A venv with mmlt installed from a wheel built from an sdist of this
    checkout."""
    root = tmp_path_factory.mktemp('mmlt_wheel')
    src = root / 'src'
    src.mkdir()
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc', '*.egg-info', '.mim'))
        else:
            shutil.copy(path, src / name)
    dist = root / 'dist'
    sdist = run([
        sys.executable, '-c', 'from setuptools import build_meta as b; '
        f'print(b.build_sdist({str(dist)!r}))'
    ], src, clean_env()).split()[-1]
    # sdist -> wheel as `pip install mmlt-*.tar.gz` does, with this
    # interpreter's setuptools and wheel
    run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
         '--no-build-isolation', '--no-index', '-w', dist, dist / sdist],
        root, clean_env())
    wheels = list(dist.glob('mmlt-*.whl'))
    assert len(wheels) == 1, wheels
    env_dir = root / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', env_dir], root)
    python = env_dir / 'bin' / 'python'
    # the stack (and pip) from this interpreter's site-packages, after the
    # venv's own; path lines only, so an editable mmlt's .pth there is not
    # read and the venv sees just the mmlt it installs
    purelib = run([python, '-c',
                   'import sysconfig; print(sysconfig.get_path("purelib"))'],
                  root, clean_env()).strip()
    Path(purelib, '_outer_site_packages.pth').write_text(
        '\n'.join(outer_site_packages()) + '\n')
    # --ignore-installed: the editable mmlt's metadata is visible there
    run([python, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index',
         '--ignore-installed', wheels[0]], root, clean_env())
    return env_dir


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """LT-Digits cls, at most 24 train / 4 val / 4 test images per class."""
    return tiny_cls_data(tmp_path_factory.mktemp('lt_digits'), 24)


# What a downstream config overrides: mmlt's data paths are relative to the
# working directory (data/lt_digits/...), and the base's derived paths
# (classes, frequency files) do not follow a new data_root by themselves.
DATA_OVERRIDES = """
data_root = '{data}/'
frequency_file = data_root + 'image_frequency.json'
dataset = dict(data_root=data_root, classes=data_root + 'classes.txt')
train_dataloader = dict(batch_size=16, dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
val_evaluator = dict(
    frequency_file=frequency_file, many_threshold=20, few_threshold=10)
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = dict(T_max=1, end=1)
default_hooks = dict(checkpoint=dict(interval=1))
log_level = 'WARNING'
"""

# Run by the venv's python: the model of a work dir's config is built from
# the installed mmlt (not this checkout) and loads the checkpoint strictly.
CHECK = """
import inspect, json, sys
import torch
import mmlt
from mmengine.config import Config
from mmengine.registry import init_default_scope
cfg = Config.fromfile(sys.argv[1])
init_default_scope(cfg.default_scope)
from mmpretrain.registry import MODELS
model = MODELS.build(cfg.model)
state = torch.load(sys.argv[2], map_location='cpu', weights_only=False)
model.load_state_dict(state['state_dict'])
print(json.dumps(dict(
    mmlt=mmlt.__file__,
    backbone=[type(model.backbone).__name__,
              inspect.getfile(type(model.backbone))],
    head=[type(model.head).__name__, inspect.getfile(type(model.head))],
    keys=sorted(state['state_dict']))))
"""


def check(env_dir, work_dir, config_name, ckpt):
    out = run([env_dir / 'bin' / 'python', '-c', CHECK,
               work_dir / config_name, ckpt], work_dir, clean_env())
    info = json.loads(out.strip().splitlines()[-1])
    site = str(env_dir / 'lib')
    assert info['mmlt'].startswith(site), info['mmlt']
    for part in ('backbone', 'head'):
        assert info[part][1].startswith(site), info[part]
    return info


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """The downstream repo: a folder outside this checkout."""
    path = tmp_path_factory.mktemp('downstream')
    assert REPO not in path.parents
    (path / 'configs').mkdir()
    return path


@pytest.fixture(scope='module')
def stage1(venv, data, project):
    (project / 'configs' / 'lt_cls_stage1.py').write_text(
        "_base_ = 'mmlt::demo/cls_stage1.py'\n" +
        DATA_OVERRIDES.format(data=data))
    run([venv / 'bin' / 'mmlt-train', 'configs/lt_cls_stage1.py',
         '--work-dir', 'work_dirs/lt_cls_stage1'], project, clean_env())
    return project / 'work_dirs' / 'lt_cls_stage1'


def test_wheel_ships_configs_and_tools(venv):
    site = next((venv / 'lib').glob('python*/site-packages'))
    mim = site / 'mmlt' / '.mim'
    for rel in ('demo/cls_stage1.py', 'demo/cls_stage2.py',
                'demo/seg_stage1.py', 'demo/det_stage1.py',
                'imagenet_lt/resnet50_disalign_8xb32-10e_imagenet-lt.py',
                'deit_lt/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py'):
        assert (mim / 'configs' / rel).is_file(), rel
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'tools' / 'test.py').is_file()
    # the model index `mim search mmlt` reads, with the files it imports
    assert (mim / 'model-index.yml').is_file()
    assert (mim / 'configs' / 'lvis' / 'metafile.yml').is_file()
    assert (venv / 'bin' / 'mmlt-test').is_file()


def test_downstream_stage1_trains_with_mmlt_train(stage1):
    ckpt = stage1 / 'epoch_1.pth'
    assert ckpt.is_file()
    dumped = Config.fromfile(
        str(stage1 / 'lt_cls_stage1.py'), import_custom_modules=False)
    assert dumped.model.backbone.type == 'CifarResNet'
    assert dumped.custom_imports.imports == ['mmlt.classification']
    assert '_scope_' not in dumped.model  # mmlt:: adds no scope


def test_downstream_stage2_from_installed_configs(venv, data, project,
                                                  stage1):
    """cls_stage2 inherits ./cls_stage1.py inside the installed configs;
    run by ``python -m mmlt train`` with DisAlignRunner."""
    (project / 'configs' / 'lt_cls_stage2.py').write_text(
        "_base_ = 'mmlt::demo/cls_stage2.py'\n" +
        DATA_OVERRIDES.format(data=data) + textwrap.dedent(f"""
        load_from = '{stage1 / 'epoch_1.pth'}'
        model = dict(head=dict(loss=dict(frequency_file=frequency_file)))
        """))
    work_dir = project / 'work_dirs' / 'lt_cls_stage2'
    run([venv / 'bin' / 'python', '-m', 'mmlt', 'train',
         'configs/lt_cls_stage2.py', '--work-dir', work_dir], project,
        clean_env())
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.is_file()
    info = check(venv, work_dir, 'lt_cls_stage2.py', ckpt)
    assert info['backbone'][0] == 'CifarResNet'
    assert info['head'][0] == 'DisAlignLinearClsHead'
    assert 'head.fc.calibration.magnitude' in info['keys']


def test_path_form_needs_no_import(venv, project):
    """Entry points that never import mmlt before reading the config
    (mmpretrain's tools/train.py, ``mim train``) take the path form."""
    site = next((venv / 'lib').glob('python*/site-packages'))
    base = site / 'mmlt' / '.mim' / 'configs' / 'demo' / 'cls_stage2.py'
    (project / 'configs' / 'by_path.py').write_text(f"_base_ = '{base}'\n")
    out = run([
        venv / 'bin' / 'python', '-c',
        'import sys; from mmengine.config import Config; '
        'cfg = Config.fromfile(sys.argv[1], import_custom_modules=False); '
        "assert 'mmlt' not in sys.modules; print(cfg.model.head.type)",
        'configs/by_path.py'
    ], project, clean_env())
    assert out.split()[-1] == 'DisAlignLinearClsHead'


def test_prefix_in_a_checkout(tmp_path):
    """Editable install / source tree: mmlt:: reads the checkout's configs
    once the runtime is set up (the tools do it)."""
    from mmlt.engine import setup_runtime
    setup_runtime()
    assert Path(config_root()) == REPO / 'configs'
    assert get_config_path('mmlt::demo/cls_stage1.py') == str(
        REPO / 'configs' / 'demo' / 'cls_stage1.py')
    cfg_file = tmp_path / 'child.py'
    cfg_file.write_text("_base_ = ['mmlt::demo/cls_stage2.py']\n"
                        "model = dict(head=dict(loss=dict(rho=0.5)))\n")
    cfg = Config.fromfile(str(cfg_file), import_custom_modules=False)
    assert cfg.runner_type == 'DisAlignRunner'
    assert cfg.model.head.loss.rho == 0.5
    assert cfg.default_scope == 'mmpretrain'
    assert '_scope_' not in cfg.model
    with pytest.raises(FileNotFoundError, match='no config'):
        get_config_path('mmlt::demo/no_such_config.py')
    assert mmlt.mim.register_mmlt_prefix() is False  # done by setup_runtime
