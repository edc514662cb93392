"""Kill a run part-way, ``--resume`` it, and end exactly where the
uninterrupted run ends: a DisAlign stage 2 and a DeiT-LT student (killed
after its DRW switch), each with tools/train.py in a subprocess, as a user
runs them. ``RNGStateHook`` (configs/demo) carries the random generators
across the kill."""
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from mmlt.engine.resume import RNGStateHook, get_rng_state, set_rng_state
from tiny_runs import (REPO, dump, state_dict, tiny_config, tiny_student,
                       train, val_metrics)

EPOCHS = 4


@pytest.fixture(scope='module')
def data(tiny_lt_digits_cls):
    return tiny_lt_digits_cls


def kill_after(config, work_dir, epoch):
    """Start tools/train.py, SIGKILL it once epoch ``epoch``'s checkpoint is
    complete (mmengine writes last_checkpoint after the file)."""
    proc = subprocess.Popen(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
         '--work-dir', str(work_dir)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = work_dir / 'last_checkpoint'
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if marker.exists() and marker.read_text().strip().endswith(
                f'epoch_{epoch}.pth'):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'not killed mid-run'
    assert not (work_dir / f'epoch_{EPOCHS}.pth').exists()


def check_resume_repeats(config, tmp_path, kill_epoch):
    whole, resumed = tmp_path / 'whole', tmp_path / 'resumed'
    train(config, whole)
    kill_after(config, resumed, kill_epoch)
    out = train(config, resumed, '--resume')
    assert 'restored the generator states' in (out.stdout + out.stderr)
    final = f'epoch_{EPOCHS}.pth'
    expected, got = state_dict(whole / final), state_dict(resumed / final)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    metrics = val_metrics(whole)
    assert metrics and metrics == val_metrics(resumed)
    return metrics


def test_disalign_stage2_resume_repeats_the_run(data, tmp_path):
    stage1 = tiny_config('cls_stage1', data, 1)
    stage1.work_dir = str(tmp_path / 'stage1')
    train(dump(stage1, tmp_path / 'stage1.py'), tmp_path / 'stage1')
    stage2 = tiny_config('cls_stage2', data, EPOCHS,
                         load_from=str(tmp_path / 'stage1' / 'epoch_1.pth'))
    assert stage2.runner_type == 'DisAlignRunner'
    assert {'type': 'RNGStateHook'} in stage2.custom_hooks
    metrics = check_resume_repeats(
        dump(stage2, tmp_path / 'stage2.py'), tmp_path, kill_epoch=2)
    assert 'lt/top1' in metrics


def test_deit_lt_resume_after_drw_switch_repeats_the_run(data, tmp_path):
    # DRW (Mixup / CutMix off, re-weighted DIST loss) from epoch index 2;
    # killed after epoch 3, i.e. after the switch
    student = tiny_student(data, tmp_path, EPOCHS, drw_epoch=2)
    assert {'type': 'RNGStateHook'} in student.custom_hooks
    metrics = check_resume_repeats(
        dump(student, tmp_path / 'student.py'), tmp_path, kill_epoch=3)
    assert {'lt_cls/top1', 'lt_dist/top1', 'lt_avg/top1'} <= set(metrics)


def test_rng_state_hook_restores_on_resume_only():
    class FakeRunner:
        _resume = True

        class logger:  # noqa: N801
            messages = []

            @classmethod
            def info(cls, msg):
                cls.messages.append(msg)

            warning = info

    hook = RNGStateHook()
    checkpoint = {}
    hook.before_save_checkpoint(FakeRunner, checkpoint)
    expected = (random.random(), np.random.rand(), torch.rand(1))
    hook.after_load_checkpoint(FakeRunner, checkpoint)
    assert (random.random(), np.random.rand(), torch.rand(1)) == expected
    # load_from (not a resume): the generators are left alone
    FakeRunner._resume = False
    state = get_rng_state()
    hook.after_load_checkpoint(FakeRunner, checkpoint)
    after = torch.rand(1)
    set_rng_state(state)
    assert torch.equal(after, torch.rand(1))
    # validation draws nothing from the training's generators
    state = get_rng_state()
    expected = torch.rand(1)
    set_rng_state(state)
    hook.before_val_epoch(FakeRunner)
    torch.rand(5)
    hook.after_val_epoch(FakeRunner)
    assert torch.equal(torch.rand(1), expected)


def test_resume_runs_no_code_from_the_checkpoint_config(data, tmp_path):
    """mmengine saves the config as Python source in ``meta['cfg']``; a
    checkpoint whose text runs code resumes without running it, and a
    changed lr is still reported (from mmlt's own settings record)."""
    config = tiny_config('cls_stage1', data, 2)
    config_file = dump(config, tmp_path / 'stage1.py')
    first = tmp_path / 'first'
    train(config_file, first)
    checkpoint = first / 'epoch_1.pth'
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    assert 'mmlt_resumed_settings' in saved['meta']
    marker = tmp_path / 'ran'
    saved['meta']['cfg'] = (f"_x = __import__('os').system('touch {marker}')"
                            '\n' + saved['meta']['cfg'])
    torch.save(saved, checkpoint)
    lr = config.optim_wrapper.optimizer.lr
    out = train(config_file, tmp_path / 'resumed', '--resume',
                str(checkpoint), '--cfg-options',
                f'optim_wrapper.optimizer.lr={lr / 2}')
    assert not marker.exists()
    assert f'optim_wrapper.optimizer.lr: {lr!r} -> {lr / 2!r}' in (
        out.stdout + out.stderr)
