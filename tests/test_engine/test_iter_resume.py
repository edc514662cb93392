"""Kill an iteration-based DisAlign stage 2 (the segmentation and the
detection demo, ``IterBasedTrainLoop`` with an ``InfiniteSampler``)
part-way, ``--resume`` it, and end exactly where the uninterrupted run ends:
tools/train.py in subprocesses, as a user runs them. ``RNGStateHook`` puts
the generators back after mmengine's replay of the trained batches."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tiny_runs import REPO, dump, state_dict, train

ITERS = 8  # a checkpoint every 2 iterations; killed after iteration 2
INTERVAL = 2
KILL_ITER = 2


@pytest.fixture(scope='module')
def data(lt_digits_seg, lt_digits_det):
    return dict(seg=lt_digits_seg, det=lt_digits_det)


def tiny_config(name: str, data_root: str, frequency_file: str,
                iters: int, **extra) -> Config:
    """configs/demo/<name>.py on a few images (batch 2), ``iters``
    iterations, a checkpoint every INTERVAL, no validation."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'demo' / f'{name}.py'))
    for loader, indices in (('train_dataloader', 12), ('val_dataloader', 2),
                            ('test_dataloader', 2)):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].dataset.indices = indices
        cfg[loader].batch_size = 2
    if 'frequency_file' in cfg.val_evaluator:
        cfg.val_evaluator.frequency_file = frequency_file
    else:
        cfg.val_evaluator.ann_file = (data_root +
                                      'annotations/lvis_v1_val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_begin = iters + 1
    cfg.default_hooks.checkpoint.interval = INTERVAL
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 1
    cfg.merge_from_dict(extra)
    return cfg


def stage2_config(task: str, root, tmp_path) -> Path:
    """The ``task`` ('seg' or 'det') demo stage 2 from a stage-1 checkpoint
    of one iteration, trained here."""
    data_root = root[task]
    frequency_file = data_root + {
        'seg': 'pixel_frequency.json',
        'det': 'lvis_v1_train_frequency.json'
    }[task]
    stage1 = tiny_config(f'{task}_stage1', data_root, frequency_file, 1,
                         work_dir=str(tmp_path / 'stage1'),
                         log_level='WARNING')
    Runner.from_cfg(stage1).train()
    stage2 = tiny_config(
        f'{task}_stage2', data_root, frequency_file, ITERS,
        load_from=str(tmp_path / 'stage1' / 'iter_1.pth'))
    loss = (stage2.model.decode_head.loss_decode if task == 'seg' else
            stage2.model.roi_head.bbox_head.loss_cls)
    loss.frequency_file = frequency_file
    assert stage2.runner_type == 'DisAlignRunner'
    assert stage2.train_cfg.type == 'IterBasedTrainLoop'
    assert stage2.train_dataloader.sampler.type == 'InfiniteSampler'
    return dump(stage2, tmp_path / f'{task}_stage2.py')


def start(config, work_dir, *args):
    return subprocess.Popen(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
         '--work-dir', str(work_dir), *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def kill_after(proc, work_dir, iteration):
    """SIGKILL ``proc`` once iteration ``iteration``'s checkpoint is
    complete (mmengine writes last_checkpoint after the file)."""
    marker = work_dir / 'last_checkpoint'
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if marker.exists() and marker.read_text().strip().endswith(
                f'iter_{iteration}.pth'):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    out, _ = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, out[-3000:]
    assert not (work_dir / f'iter_{ITERS}.pth').exists()


@pytest.mark.parametrize('task', ['seg', 'det'])
def test_iter_based_stage2_resume_repeats_the_run(task, data, tmp_path):
    config = stage2_config(task, data, tmp_path)
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    # the uninterrupted and the killed run side by side
    whole_run = start(config, whole)
    kill_after(start(config, resumed), resumed, KILL_ITER)
    out, _ = whole_run.communicate()
    assert whole_run.returncode == 0, out[-3000:]
    out = train(config, resumed, '--resume')
    log = out.stdout + out.stderr
    assert 'restored the generator states' in log
    assert 'Advance dataloader' in log  # resumed mid-way, not from scratch
    final = f'iter_{ITERS}.pth'
    expected, got = state_dict(whole / final), state_dict(resumed / final)
    assert expected.keys() == got.keys()
    calibration = [k for k in expected if 'calibration.' in k]
    assert calibration
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
