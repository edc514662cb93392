"""The full-size configs run as users run them, on a few images in the real
datasets' formats (``real_formats``) with the real class lists: the
frequency tool, a stage-1 model saved as mmengine saves a checkpoint
(built, not trained: the configs are what is tested), the shipped stage-2
config through ``tools/train.py`` for 2 iterations, then ``tools/test.py``
with the config's own evaluator. Every tool runs from a user's directory
(``data/`` as the configs name it) with downloads made to fail.

The only changes to the shipped configs (``shrink``): the schedule (2
iterations or 1 epoch, no validation during training), the batch size and
data-loader workers, the image scales, and, for the 224-pixel models, the
number of samples read (``indices``). Models, heads, losses, samplers and
metrics are as shipped."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

import real_formats
from tiny_runs import REPO

CONFIGS = REPO / 'configs'
# a proxy nobody listens on: a download attempt fails at once
OFFLINE = dict(http_proxy='http://127.0.0.1:9', https_proxy='http://127.0.0.1:9',
               HTTP_PROXY='http://127.0.0.1:9', HTTPS_PROXY='http://127.0.0.1:9',
               no_proxy='', NO_PROXY='')


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    """A user's directory: ``data/`` in the real formats."""
    return tmp_path_factory.mktemp('user')


def run(root: Path, script: str, *args, expect_ok: bool = True):
    """``python tools/<script> args`` from ``root``, offline."""
    env = dict(os.environ, **OFFLINE, TORCH_HOME=str(root / 'torch_home'),
               OMP_NUM_THREADS='2')
    out = subprocess.run([sys.executable, str(REPO / 'tools' / script),
                          *map(str, args)],
                         cwd=root, capture_output=True, text=True, env=env)
    if expect_ok:
        assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return out


def pipelines(cfg):
    for name in ('train_dataloader', 'test_dataloader'):
        yield name, cfg[name].dataset.get('pipeline', [])


def shrink(cfg: Config, *, iters: int = None, epochs: int = None,
           batch: int = None, scales: dict = None, indices: int = None):
    """The overrides of the shipped configs in these tests."""
    if iters is not None:
        cfg.train_cfg.max_iters = iters
        cfg.default_hooks.checkpoint.interval = iters
    if epochs is not None:
        cfg.train_cfg.max_epochs = epochs
    # no validation during training (tools/test.py evaluates after it)
    cfg.train_cfg.val_interval = 10**6
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    for name in ('train_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.num_workers = 0
        loader.persistent_workers = False
        if batch is not None:
            loader.batch_size = batch
        if indices is not None:
            loader.dataset.indices = indices
    for _, pipeline in pipelines(cfg):
        for step in pipeline:
            for key, value in (scales or {}).get(step.type, {}).items():
                step[key] = value
    return cfg


def write(cfg: Config, root: Path, name: str) -> Path:
    path = root / 'configs' / name
    path.parent.mkdir(exist_ok=True)
    cfg.dump(str(path))
    return path


def log_of(work_dir: Path) -> str:
    return '\n'.join(p.read_text() for p in sorted(work_dir.glob('*/*.log')))


def per_class(work_dir: Path, name: str) -> dict:
    """The per-class file the last run in ``work_dir`` wrote."""
    from mmlt.core.per_class import read_per_class
    return read_per_class(sorted(work_dir.glob(f'*/per_class_{name}.json'))[-1])


def common_log_checks(text: str) -> None:
    """What no run of a shipped config should print."""
    assert 'The prefix is not set' not in text
    assert 'do not match exactly' not in text
    assert 'top1_classwise' not in text
    assert 'URLError' not in text and 'Downloading' not in text


def train_then_test(root: Path, cfg: Config, name: str, checkpoint: str):
    """``tools/train.py`` on ``cfg`` (from its own ``load_from``, relative
    to the user's folder ``root``), then ``tools/test.py`` on its
    ``checkpoint``; the work dir and everything both printed and logged,
    checked by ``common_log_checks``."""
    config = write(cfg, root, f'{name}.py')
    work_dir = root / 'work_dirs' / name
    trained = run(root, 'train.py', config, '--work-dir', work_dir)
    out = run(root, 'test.py', config, work_dir / checkpoint, '--work-dir',
              work_dir)
    text = trained.stdout + out.stdout + out.stderr + log_of(work_dir)
    common_log_checks(text)
    return work_dir, text


# ----------------------------------------------------------------------------
# LVIS v1, Mask R-CNN R50-FPN: DisAlign and cRT

LVIS_SCALES = {'RandomChoiceResize': dict(scales=[(96, 64)]),
               'Resize': dict(scale=(96, 64))}


@pytest.fixture(scope='module')
def lvis(root):
    real_formats.lvis_v1(root)
    out = run(root, 'analysis/class_frequency.py', 'lvis',
              'data/lvis_v1/annotations/lvis_v1_train.json', '--classes',
              'mmdet.LVISV1Dataset', '-o',
              'data/lvis_v1/lvis_v1_train_frequency.json')
    # the real file's spelling of category 655 is named, not refused
    assert 'speaker_(stero_equipment)' in out.stdout + out.stderr
    return real_formats.save_run(
        str(CONFIGS / 'lvis' / 'mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'),
        root / 'work_dirs' / 'mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1',
        'mmdet')


@pytest.mark.parametrize('name', ['mask-rcnn_disalign.py',
                                  'mask-rcnn_r50_fpn_crt_9k_lvis-v1.py'])
def test_lvis_mask_rcnn(root, lvis, name):
    cfg = shrink(Config.fromfile(str(CONFIGS / 'lvis' / name)), iters=2,
                 batch=2, scales=LVIS_SCALES)
    assert root / cfg.load_from == lvis  # the stage-1 run's work dir
    work_dir, text = train_then_test(root, cfg, f'lvis_{name}', 'iter_2.pth')
    assert re.search(r'lvis/bbox_AP: \S+ .*lvis/segm_AP: ', text), text[-3000:]
    assert '| category' not in text  # mmdet's 1,203-row table: in the file
    found = per_class(work_dir, 'det')
    assert found['metrics'] == ['bbox_AP', 'segm_AP']
    rows = found['classes']
    assert len(rows) == 1203 and rows[654]['name'] == 'speaker_(stero_equipment)'
    assert rows[654]['train_count'] == real_formats.LVIS_TRAIN_IMAGES
    assert {r['group'] for r in rows} == {'rare', 'common', 'frequent'}
    # categories in the val images have an AP, the others None
    assert rows[654]['bbox_AP'] is not None and rows[10]['bbox_AP'] is None


# ----------------------------------------------------------------------------
# ADE20K, FCN R50-D8: DisAlign (trained) and logit adjustment (post hoc)

ADE_SCALES = {'RandomResize': dict(scale=(96, 32)),
              'RandomCrop': dict(crop_size=(32, 32)),
              'Resize': dict(scale=(96, 32))}


def ade_config(name: str) -> Config:
    cfg = shrink(Config.fromfile(str(CONFIGS / 'ade20k' / name)), iters=2,
                 batch=2, scales=ADE_SCALES)
    cfg.model.data_preprocessor.size = (32, 32)
    return cfg


@pytest.fixture(scope='module')
def ade(root):
    real_formats.ade20k(root)
    run(root, 'analysis/class_frequency.py', 'seg',
        'data/ade/ADEChallengeData2016/annotations/training', '--num-classes',
        150, '--reduce-zero-label', '--classes', 'mmseg.ADE20KDataset', '-o',
        'data/ade/ade20k_pixel_frequency.json')
    import mmseg
    stock = Path(mmseg.__file__).parent / '.mim' / 'configs' / 'fcn' / \
        'fcn_r50-d8_4xb4-160k_ade20k-512x512.py'  # the configs' _base_
    return real_formats.save_run(
        str(stock), root / 'work_dirs' / 'fcn_r50-d8_4xb4-160k_ade20k-512x512',
        'mmseg')


def ade_group_values(text: str) -> list:
    """The values of the per-group line."""
    lines = re.findall(r'per group results: (.*)', text)
    return re.findall(r'(?:mIoU|mAcc) (\S+?)[,;\n]', lines[-1] + '\n')


def test_ade20k_fcn_disalign(root, ade):
    name = 'fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py'
    cfg = ade_config(name)
    assert root / cfg.load_from == ade  # the stage-1 run's work dir
    work_dir, text = train_then_test(root, cfg, 'ade_disalign', 'iter_2.pth')
    values = ade_group_values(text)
    assert len(values) == 6, values
    assert all(re.fullmatch(r'\d+\.\d\d|None', v) for v in values), values
    rows = per_class(work_dir, 'seg')['classes']
    assert len(rows) == 150 and rows[149]['name'] == 'flag'
    assert rows[0]['group'] == 'head' and rows[149]['group'] == 'tail'
    assert rows[0]['train_count'] > 0 and rows[149]['IoU'] is not None


def test_ade20k_fcn_logit_adjustment(root, ade):
    name = 'fcn_r50-d8_logit-adjustment_ade20k-512x512.py'
    config = write(ade_config(name), root, f'ade_{name}')
    work_dir = root / 'work_dirs' / 'ade_la'
    out = run(root, 'test.py', config, ade, '--work-dir', work_dir)
    text = out.stdout + out.stderr + log_of(work_dir)
    common_log_checks(text)
    assert ade_group_values(text)


def test_ade20k_syncbn_on_two_cpu_processes(root, ade):
    """mmseg's ADE20K models use SyncBN, which torch runs on GPUs only."""
    from tiny_runs import dist_train
    name = 'fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py'
    cfg = ade_config(name)
    assert cfg.norm_cfg.type == 'SyncBN'
    config = write(cfg, root, f'ade_dist_{name}')
    work_dir = root / 'work_dirs' / 'ade_dist'
    out = dist_train(config, work_dir, 2, cwd=root, env=OFFLINE)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    text = log_of(work_dir)
    assert 'Distributed training: True' in text
    assert 'SyncBatchNorm layers are BatchNorm' in text
    assert (work_dir / 'iter_2.pth').is_file()


# ----------------------------------------------------------------------------
# ImageNet-LT, ResNet-50: DisAlign and cRT

IMAGENET_SCALES = {'RandomResizedCrop': dict(scale=32),
                   'ResizeEdge': dict(scale=36),
                   'CenterCrop': dict(crop_size=32)}


@pytest.fixture(scope='module')
def imagenet(root):
    real_formats.imagenet_lt(root)
    run(root, 'analysis/class_frequency.py', 'list',
        'data/imagenet/ImageNet_LT_train.txt', '--classes',
        'mmpretrain.ImageNet', '-o', 'data/imagenet/ImageNet_LT_train_freq.json')
    return real_formats.save_run(
        str(CONFIGS / 'imagenet_lt' / 'resnet50_8xb32-90e_imagenet-lt.py'),
        root / 'work_dirs' / 'resnet50_8xb32-90e_imagenet-lt', 'mmpretrain')


@pytest.mark.parametrize('name', ['resnet50_disalign_8xb32-10e_imagenet-lt.py',
                                  'resnet50_crt_8xb32-10e_imagenet-lt.py'])
def test_imagenet_lt_resnet50(root, imagenet, name):
    cfg = shrink(Config.fromfile(str(CONFIGS / 'imagenet_lt' / name)),
                 epochs=1, batch=512, scales=IMAGENET_SCALES)
    assert root / cfg.load_from == imagenet  # the stage-1 run's work dir
    work_dir, text = train_then_test(root, cfg, f'imagenet_{name}',
                                     'epoch_1.pth')
    assert re.search(r'lt/top1: \S+ .*lt/top5: ', text)
    rows = per_class(work_dir, 'lt')['classes']
    assert len(rows) == 1000 and rows[0]['train_count'] == 5
    assert rows[0]['name'] == 'tench, Tinca tinca' and rows[0]['group'] == 'few'


# ----------------------------------------------------------------------------
# CIFAR-10-LT, ResNet-32: DisAlign; DeiT-LT with its ResNet-32 teacher

@pytest.fixture(scope='module')
def cifar(root):
    real_formats.cifar10(root, per_class=100)
    return real_formats.save_run(
        str(CONFIGS / 'cifar_lt' / 'resnet32_1xb128-200e_cifar10-lt-ir100.py'),
        root / 'work_dirs' / 'resnet32_1xb128-200e_cifar10-lt-ir100',
        'mmpretrain')


def test_cifar10_lt_disalign(root, cifar):
    name = 'resnet32_disalign_1xb128-10e_cifar10-lt-ir100.py'
    cfg = shrink(Config.fromfile(str(CONFIGS / 'cifar_lt' / name)), epochs=1)
    assert root / cfg.load_from == cifar  # the stage-1 run's work dir
    _, text = train_then_test(root, cfg, 'cifar_disalign', 'epoch_1.pth')
    assert re.search(r'lt/few: \S+', text)


def test_deit_lt_student_with_its_teacher(root, cifar):
    name = 'deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py'
    cfg = Config.fromfile(str(CONFIGS / 'deit_lt' / name))
    # the teacher run where the config expects it (its work dir)
    real_formats.save_run(cfg.model.teacher.config,
                          root / cfg.model.teacher.checkpoint, 'mmpretrain')
    shrink(cfg, epochs=1, batch=2, indices=4)
    work_dir, text = train_then_test(root, cfg, 'deit', 'epoch_1.pth')
    # one labelled per-group line per head
    for head in ('lt_cls', 'lt_dist', 'lt_avg'):
        assert re.search(rf'{head} top-1 per group: ', text), head
        assert len(per_class(work_dir, head)['classes']) == 10


def test_data_loader_workers_fit_the_cores(monkeypatch):
    """The shipped 4-8 workers per GPU are cut to the cores of each of the
    processes on this machine."""
    from mmlt.engine import tool_config
    from mmlt.engine.tool_config import cap_dataloader_workers
    said = []
    monkeypatch.setattr(tool_config, 'print_log',
                        lambda message, *args: said.append(message))
    cfg = Config.fromfile(
        str(CONFIGS / 'ade20k' /
            'fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py'))
    assert cfg.train_dataloader.num_workers == 4
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: {0, 1, 2})
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    cap_dataloader_workers(cfg)
    assert cfg.train_dataloader.num_workers == 3
    assert 'train_dataloader 4, val_dataloader 4, test_dataloader 4 -> 3' \
        in said[0]
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '2')  # torchrun, 2 processes
    cap_dataloader_workers(cfg)
    assert cfg.train_dataloader.num_workers == 1
    cfg.train_dataloader.num_workers = 1
    cap_dataloader_workers(cfg)  # within the limit: left alone
    assert cfg.train_dataloader.num_workers == 1
