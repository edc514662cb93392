"""Shared by the tests that run tools/train.py and tools/dist_train.sh as a
user does: the demo's classification and DeiT-LT configs pointed at a few
LT-Digits images, dumped to a file, trained in subprocesses."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from mmengine.config import Config

from mmlt.core.frequency import from_image_list
from mmlt.lt_digits import LT_DIGITS_CLASSES, make_lt_digits

REPO = Path(__file__).resolve().parents[1]


def cut_list(path: Path, per_class: int) -> None:
    kept, seen = [], {}
    for line in path.read_text().splitlines():
        label = int(line.rsplit(maxsplit=1)[1])
        seen[label] = seen.get(label, 0) + 1
        if seen[label] <= per_class:
            kept.append(line)
    path.write_text('\n'.join(kept) + '\n')


def tiny_cls_data(root: Path, train_per_class: int = 16) -> Path:
    """LT-Digits classification cut to <= train_per_class train and 4 val /
    test images per class, with its image-frequency file."""
    make_lt_digits(root, tasks=('cls', ))
    cls = root / 'cls'
    for split, per_class in (('train', train_per_class), ('val', 4),
                             ('test', 4)):
        cut_list(cls / f'lt_digits_{split}.txt', per_class)
    from_image_list(cls / 'lt_digits_train.txt',
                    classes=LT_DIGITS_CLASSES).save(cls /
                                                    'image_frequency.json')
    return cls


def tiny_config(name: str, data: Path, max_epochs: int,
                many_threshold: int = 12, few_threshold: int = 8,
                **extra) -> Config:
    """configs/demo/<name>.py on ``data``: ``max_epochs`` epochs, batch 16,
    a checkpoint every epoch, validation at the end only; a frequency-file
    metric splits many / few at the given image counts."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / f'{name}.py'))
    freq = str(data / 'image_frequency.json')
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(data)
        cfg[loader].dataset.classes = str(data / 'classes.txt')
        cfg[loader].batch_size = 16
    evaluators = cfg.val_evaluator if isinstance(
        cfg.val_evaluator, list) else [cfg.val_evaluator]
    for evaluator in evaluators:
        if 'frequency_file' in evaluator:
            evaluator.update(frequency_file=freq,
                             many_threshold=many_threshold,
                             few_threshold=few_threshold)
    if cfg.model.head.get('loss', {}).get('frequency_file'):
        cfg.model.head.loss.frequency_file = freq
    if cfg.model.head.get('frequency_file'):  # a logit-adjusted head's prior
        cfg.model.head.frequency_file = freq
    cfg.test_evaluator = cfg.val_evaluator
    schedulers = cfg.param_scheduler if isinstance(
        cfg.param_scheduler, list) else [cfg.param_scheduler]
    for scheduler in schedulers:
        scheduler.end = min(scheduler.get('end', max_epochs), max_epochs)
        scheduler.begin = min(scheduler.get('begin', 0), max_epochs - 1)
        if 'T_max' in scheduler:
            scheduler.T_max = scheduler.end - scheduler.begin
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = max_epochs
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 1
    cfg.merge_from_dict(extra)
    return cfg


def two_epoch_config(name: str, data: Path, work_dir: Path,
                     **extra) -> Config:
    """configs/demo/<name>.py on ``data``: two short epochs, many / few at
    > 20 / < 10 training images, logs in ``work_dir`` at level WARNING."""
    cfg = tiny_config(name, data, 2, many_threshold=20, few_threshold=10,
                      **extra)
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    return cfg


def dump(cfg: Config, path: Path) -> Path:
    cfg.dump(str(path))
    return path


def tiny_student(data: Path, tmp_path: Path, max_epochs: int,
                 drw_epoch: int) -> Config:
    """A one-epoch demo teacher trained in ``tmp_path / 'teacher'``, and the
    demo student config that distils from it, DRW from ``drw_epoch``."""
    teacher_cfg = dump(tiny_config('deit_teacher', data, 1),
                       tmp_path / 'teacher.py')
    train(teacher_cfg, tmp_path / 'teacher')
    student = tiny_config(
        'deit_student', data, max_epochs,
        model=dict(teacher=dict(
            config=str(teacher_cfg),
            checkpoint=str(tmp_path / 'teacher' / 'epoch_1.pth'))))
    [drw] = [h for h in student.custom_hooks if h.type == 'DRWHook']
    drw.start_epoch = drw_epoch
    return student


def train(config: Path, work_dir: Path, *args):
    """tools/train.py in a subprocess, from the repo root; fails with the
    end of its output."""
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
         '--work-dir', str(work_dir), *args],
        cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out


def free_port() -> int:
    """A port nobody listens on now (a fixed one may still be held by the
    last run's store)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def dist_train(config: Path, work_dir: Path, nproc: int, *args,
               cwd: Path = REPO, env: dict = None):
    """tools/dist_train.sh (torchrun) with ``nproc`` processes, started
    from ``cwd`` with ``env`` added to the environment."""
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1', **(env or {}))
    return subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(config),
         str(nproc), '--work-dir', str(work_dir), *args],
        cwd=cwd, capture_output=True, text=True, env=env)


def state_dict(checkpoint: Path) -> dict:
    return torch.load(checkpoint, map_location='cpu',
                      weights_only=False)['state_dict']


def val_metrics(work_dir: Path) -> dict:
    """The last validation metrics logged in ``work_dir`` (any run), less
    the timings."""
    found = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'step' in record and 'loss' not in record and 'lr' not in \
                    record:
                found = {k: v for k, v in record.items()
                         if k not in ('time', 'data_time')}
    return found
