"""A crash never costs more than the work since the last complete
checkpoint (mmlt.engine.checkpointing).

tools/train.py is killed (SIGKILL) at every step of a save in turn
(tests/crash_during_save.py pauses it there) and resumed with ``--resume``
each time; then the resume lookup on hand-made work dirs: the relative
pointer, mmengine's old absolute one, a copied work dir, and a pointer that
is missing, empty or names a truncated file."""
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from mmengine.logging import MMLogger

from mmengine.runner import Runner

from mmlt.engine import checkpointing
from mmlt.engine.checkpointing import (AtomicLocalBackend, SafeCheckpointHook,
                                       checkpoint_problem,
                                       latest_complete_checkpoint,
                                       with_safe_checkpoint_hook)
from tiny_runs import REPO, dump
from toy_regression import toy_config

EPOCHS = 5


def start_killable(config, work_dir, events, kill_at):
    """tools/train.py --resume, paused at step ``kill_at`` (save:step) of
    its saves; output to ``events``.out."""
    env = dict(os.environ, CRASH_EVENTS=str(events), CRASH_KILL_AT=kill_at,
               PYTHONPATH=os.pathsep.join(
                   [str(REPO / 'tests'), os.environ.get('PYTHONPATH', '')]))
    with open(f'{events}.out', 'w') as out:
        return subprocess.Popen(
            [sys.executable, str(REPO / 'tests' / 'crash_during_save.py'),
             str(config), '--work-dir', str(work_dir), '--resume'],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_paused_or_done(proc, events, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if events.exists() and 'paused' in events.read_text().split('\n'):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f'neither paused nor done: {events}')


def step_of(path) -> int:
    return int(Path(path).stem.split('_')[-1])


def epoch_saved_in(path) -> int:
    return torch.load(path, map_location='cpu',
                      weights_only=False)['meta']['epoch']


def test_killed_at_every_step_of_a_save_resumes_from_the_last_complete(
        tmp_path):
    # the riskiest setting: one checkpoint kept
    config = dump(toy_config(EPOCHS, default_hooks=dict(
        checkpoint=dict(max_keep_ckpts=1))), tmp_path / 'cfg.py')
    work_dir = tmp_path / 'work'
    completed, expected_resume, steps_seen = 0, None, []
    warned = False
    for run in range(1, 20):
        # the first run is killed in its second save (the first leaves a
        # checkpoint to lose), the others in the first after resuming
        kill_at = f'{2 if run == 1 else 1}:{run}'
        events = tmp_path / f'events_{run}'
        proc = start_killable(config, work_dir, events, kill_at)
        paused = wait_paused_or_done(proc, events)
        output = Path(f'{events}.out').read_text()
        if expected_resume is not None:
            assert f'resumed epoch: {expected_resume},' in output, \
                output[-3000:]
        # the checkpoint is looked up once: each warning is said once
        said = re.findall(r'--resume: (.*)', output)
        assert len(said) == len(set(said)), said
        warned = warned or bool(said)
        if not paused:  # the save has fewer steps: the run went to the end
            assert proc.returncode == 0, output[-3000:]
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lines = events.read_text().splitlines()
        completed = max([completed] + [
            int(line.rsplit(' ', 1)[1]) for line in lines
            if ' complete: epoch ' in line])
        steps_seen.append(lines[-2])  # the step it was killed before
        complete = [step_of(p) for p in work_dir.glob('*.pth')
                    if checkpoint_problem(str(p)) is None]
        assert complete and max(complete) >= completed, (
            f'killed at {lines[-2]!r}: the last complete save was epoch '
            f'{completed}, the work dir holds complete checkpoints of '
            f'epochs {complete}')
        found = latest_complete_checkpoint(str(work_dir))
        assert found is not None and epoch_saved_in(found) == max(complete), (
            f'killed at {lines[-2]!r}: resume would start from {found}, not '
            f'from the newest complete checkpoint (epoch {max(complete)})')
        expected_resume = max(complete)
    else:
        raise AssertionError('the run never ended')
    # every step of a save was hit: the serialisation, half-written files,
    # each rename and the deletion of the superseded checkpoint
    assert any('serialise' in s for s in steps_seen), steps_seen
    assert any('half of epoch_' in s for s in steps_seen), steps_seen
    assert any('half of last_checkpoint' in s for s in steps_seen), steps_seen
    assert any('remove epoch_' in s for s in steps_seen), steps_seen
    assert len(steps_seen) >= 6, steps_seen
    assert warned  # a kill left a pointer to fall back from
    # the run ended with its final checkpoint, the pointer relative, and
    # max_keep_ckpts=1 kept (also the file a kill left before deleting it)
    assert (work_dir / 'last_checkpoint').read_text() == f'epoch_{EPOCHS}.pth'
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        f'epoch_{EPOCHS}.pth']
    assert not list(work_dir.glob('*.tmp'))


def save(path, epoch):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(meta=dict(epoch=epoch), state_dict={}), str(path))
    return path


@pytest.fixture
def warnings_logged():
    """The messages mmengine's current logger receives."""
    logger = MMLogger.get_current_instance()
    messages = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: messages.append(
        (record.levelno, record.getMessage()))
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def test_pointer_relative_or_old_absolute_and_a_copied_work_dir(tmp_path):
    work = tmp_path / 'work'
    save(work / 'epoch_1.pth', 1)
    # left by an earlier, longer run: older than the pointer, not resumed
    os.utime(save(work / 'epoch_2.pth', 2), (1e9, 1e9))
    (work / 'last_checkpoint').write_text('epoch_1.pth')
    assert latest_complete_checkpoint(str(work)) == str(work / 'epoch_1.pth')
    # mmengine's absolute pointer
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    assert latest_complete_checkpoint(str(work)) == str(work / 'epoch_1.pth')
    # a copy resumes from its own files, whichever pointer it holds, also
    # while the original is still there
    copy = tmp_path / 'copy'
    shutil.copytree(work, copy, copy_function=shutil.copy2)
    assert latest_complete_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')
    (copy / 'last_checkpoint').write_text('epoch_1.pth')
    shutil.rmtree(work)
    assert latest_complete_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')
    # checkpoints kept in an out_dir elsewhere: the absolute path
    elsewhere = save(tmp_path / 'out' / 'epoch_3.pth', 3)
    (copy / 'last_checkpoint').write_text(str(elsewhere))
    assert latest_complete_checkpoint(str(copy)) == str(elsewhere)


@pytest.mark.parametrize('pointer', ['missing', 'empty', 'deleted file',
                                     'truncated file'])
def test_a_bad_pointer_falls_back_to_the_newest_complete_checkpoint(
        tmp_path, pointer, warnings_logged):
    work = tmp_path / 'work'
    for epoch in (1, 2, 3):
        save(work / f'epoch_{epoch}.pth', epoch)
    save(work / 'best_acc_epoch_4.pth', 4)  # no optimizer: not resumable
    data = (work / 'epoch_3.pth').read_bytes()
    (work / 'epoch_4.pth').write_bytes(data[:len(data) // 2])  # cut short
    if pointer == 'empty':
        (work / 'last_checkpoint').write_text('\n')
    elif pointer == 'deleted file':
        (work / 'last_checkpoint').write_text('epoch_5.pth')
    elif pointer == 'truncated file':
        (work / 'last_checkpoint').write_text('epoch_4.pth')
    assert 'truncated' in checkpoint_problem(str(work / 'epoch_4.pth'))
    assert latest_complete_checkpoint(str(work)) == str(work / 'epoch_3.pth')
    [(level, message)] = warnings_logged
    assert level == logging.WARNING
    why = dict(missing='last_checkpoint is missing',
               empty='last_checkpoint is empty',
               **{'deleted file': 'names epoch_5.pth, which does not exist',
                  'truncated file': 'names epoch_4.pth, which is not a '
                  'complete checkpoint'})[pointer]
    assert why in message and 'resuming from' in message
    assert str(work / 'epoch_3.pth') in message


def test_no_complete_checkpoint_means_a_fresh_start(tmp_path,
                                                    warnings_logged):
    assert latest_complete_checkpoint(str(tmp_path / 'none')) is None
    assert latest_complete_checkpoint(str(tmp_path)) is None
    assert warnings_logged == []  # nothing to resume: nothing wrong
    (tmp_path / 'epoch_1.pth').write_bytes(b'PK\x03\x04 cut')
    (tmp_path / 'last_checkpoint').write_text('epoch_1.pth')
    assert latest_complete_checkpoint(str(tmp_path)) is None
    assert 'holds no other complete checkpoint' in warnings_logged[0][1]


def test_tools_and_stage2_swap_in_the_safe_hook():
    hooks = with_safe_checkpoint_hook(dict(checkpoint=dict(
        type='CheckpointHook', interval=3, max_keep_ckpts=2, save_best='a')))
    assert hooks['checkpoint'] == dict(type='SafeCheckpointHook', interval=3,
                                       max_keep_ckpts=2, save_best='a')
    # mmengine's default checkpoint hook, too; a disabled one stays off
    assert with_safe_checkpoint_hook(None)['checkpoint']['type'] == \
        'SafeCheckpointHook'
    assert with_safe_checkpoint_hook(dict(checkpoint=None)) == dict(
        checkpoint=None)
    assert issubclass(SafeCheckpointHook,
                      __import__('mmengine').hooks.CheckpointHook)


def test_replaced_checkpoints_are_deleted_after_their_successor(
        tmp_path, monkeypatch):
    """max_keep_ckpts=1 and save_best: each deletion follows the complete
    write of the checkpoint that replaces it and of the pointer."""
    order = []
    write = checkpointing.write_atomically
    remove = AtomicLocalBackend.remove

    def recorded_write(data, path):
        write(data, path)
        order.append(f'wrote {os.path.basename(path)}')

    def recorded_remove(self, path):
        order.append(f'removed {os.path.basename(path)}')
        remove(self, path)

    monkeypatch.setattr(checkpointing, 'write_atomically', recorded_write)
    monkeypatch.setattr(AtomicLocalBackend, 'remove', recorded_remove)
    cfg = toy_config(3, default_hooks=dict(checkpoint=dict(
        max_keep_ckpts=1, save_best='count', rule='greater')))
    cfg.update(work_dir=str(tmp_path), val_dataloader=cfg.train_dataloader,
               val_cfg=dict(), val_evaluator=dict(type='ValidationCount'))
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks = with_safe_checkpoint_hook(cfg.default_hooks)
    Runner.from_cfg(cfg).train()
    for epoch in (2, 3):
        for new, old in ((f'epoch_{epoch}.pth', f'epoch_{epoch - 1}.pth'),
                         (f'best_count_epoch_{epoch}.pth',
                          f'best_count_epoch_{epoch - 1}.pth')):
            assert order.index(f'wrote {new}') < order.index(
                f'removed {old}'), order
        assert order.index('wrote last_checkpoint', order.index(
            f'wrote epoch_{epoch}.pth')) < order.index(
                f'removed epoch_{epoch - 1}.pth'), order
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == [
        'best_count_epoch_3.pth', 'epoch_3.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_3.pth'
