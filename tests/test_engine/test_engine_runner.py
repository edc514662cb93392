"""``mmlt.engine.runner``: the one rule for the checkpoint a run starts from,
and the pins of the mmengine internals mmlt overrides."""
import warnings

import pytest
import torch
from mmengine.hooks import CheckpointHook

import mmlt.mim  # noqa: F401 - pins Config._get_cfg_path
import mmlt.stage2  # noqa: F401 - pins Runner.load_checkpoint
from mmlt.engine import AUTO_RESUME, checkpoint_to_start_from
from mmlt.utils import mmengine_internals
from mmlt.utils.mmengine_internals import (WRITTEN_FOR, changed_internals,
                                           pinned_internals)

# what mmlt overrides or depends on; each pin sits beside its override
OVERRIDDEN = (
    'mmengine.hooks.CheckpointHook._save_checkpoint_with_step',
    'mmengine.hooks.CheckpointHook._save_best_checkpoint',
    'mmengine.runner.checkpoint.CheckpointLoader._get_checkpoint_loader',
    'mmengine.runner.Runner.load_or_resume',
    'mmengine.runner.Runner.load_checkpoint',
    'mmengine.runner.Runner.resume',
    'mmengine.runner.IterBasedTrainLoop.run',
    'mmengine.dataset.BaseDataset.prepare_data',
    'mmengine.config.Config._get_cfg_path',
)


def test_the_mmengine_internals_mmlt_overrides_are_unchanged():
    import mmengine
    assert set(OVERRIDDEN) <= set(pinned_internals())
    changed = changed_internals()
    assert not changed, (
        f'mmengine {mmengine.__version__} changed what mmlt overrides '
        f'(written for {WRITTEN_FOR}): {changed}. Check each override '
        'against the new source, then update its relies_on digest.')


def test_a_changed_internal_is_reported_and_warned(monkeypatch):
    def _save_best_checkpoint(self, runner, metrics):  # another body
        return None

    monkeypatch.setattr(CheckpointHook, '_save_best_checkpoint',
                        _save_best_checkpoint)
    assert changed_internals() == [
        'mmengine.hooks.CheckpointHook._save_best_checkpoint: source '
        'changed']
    monkeypatch.setattr(mmengine_internals, '_checked', set())
    with pytest.warns(UserWarning, match='_save_best_checkpoint'):
        mmengine_internals.warn_on_changed_internals()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        mmengine_internals.warn_on_changed_internals()  # once per pin
    # a pin recorded later (a module imported later) is looked at then
    monkeypatch.setitem(mmengine_internals._PINNED,
                        'mmengine.hooks.CheckpointHook.after_train_epoch',
                        '0' * 16)
    with pytest.warns(UserWarning, match='after_train_epoch') as record:
        mmengine_internals.warn_on_changed_internals()
    assert '_save_best_checkpoint' not in str(record[0].message)


def _run_dir(path, steps):
    path.mkdir()
    for step in steps:
        torch.save(dict(meta=dict(epoch=step), state_dict={}),
                   str(path / f'epoch_{step}.pth'))
    (path / 'last_checkpoint').write_text(f'epoch_{steps[-1]}.pth')
    return str(path)


def test_load_from_a_run_dir_is_its_latest_checkpoint(tmp_path):
    stage1 = _run_dir(tmp_path / 'stage1', [1, 2])
    work_dir = str(tmp_path / 'stage2')
    resume, load_from, note = checkpoint_to_start_from(work_dir, False,
                                                       stage1)
    assert (resume, load_from) == (False, f'{stage1}/epoch_2.pth')
    # said: the run's last checkpoint need not be its final one
    assert note == (f'load_from={stage1}: its latest complete checkpoint, '
                    f'{stage1}/epoch_2.pth.')
    # a file is taken as it is
    assert checkpoint_to_start_from(work_dir, False, f'{stage1}/epoch_1.pth')[
        1] == f'{stage1}/epoch_1.pth'
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='train the run it belongs'):
        checkpoint_to_start_from(work_dir, False, str(tmp_path / 'empty'))


def test_auto_resume_takes_the_work_dir_or_starts_from_load_from(tmp_path):
    stage1 = _run_dir(tmp_path / 'stage1', [1])
    work_dir = tmp_path / 'stage2'
    resume, load_from, note = checkpoint_to_start_from(
        str(work_dir), AUTO_RESUME, stage1)
    assert (resume, load_from) == (False, f'{stage1}/epoch_1.pth')
    assert 'no checkpoint in' in note
    _run_dir(work_dir, [3])
    assert checkpoint_to_start_from(str(work_dir), AUTO_RESUME, stage1) == (
        True, f'{work_dir}/epoch_3.pth', '')
    # resume=True without load_from: the same lookup (mmengine's own would
    # read last_checkpoint's relative path from the cwd)
    assert checkpoint_to_start_from(str(work_dir), True, None) == (
        True, f'{work_dir}/epoch_3.pth', '')
    # resume=True with load_from: that checkpoint, as mmengine does
    assert checkpoint_to_start_from(
        str(work_dir), True, f'{stage1}/epoch_1.pth') == (
            True, f'{stage1}/epoch_1.pth', '')


def hook_names(runner):
    return [type(h).__name__ for h in runner.hooks]


@pytest.mark.parametrize('runner_type', [None, 'Runner'])
def test_every_runner_type_gets_the_rules(tmp_path, runner_type):
    """SafeRunner by default; another runner_type (here mmengine's own
    Runner) through its config: the safe checkpoint hook, the settings
    record, and resume='auto' resolved (mmengine would resume from
    load_from)."""
    import toy_regression  # noqa: F401 - the toy model's registration
    from mmlt.engine import SafeRunner, build_runner
    from toy_regression import toy_config
    stage1 = _run_dir(tmp_path / 'stage1', [1])
    extra = dict(runner_type=runner_type) if runner_type else {}
    cfg = toy_config(1, work_dir=str(tmp_path / 'run'), resume=AUTO_RESUME,
                     load_from=stage1, **extra)
    runner = build_runner(cfg)
    assert isinstance(runner, SafeRunner) == (runner_type is None)
    assert {'SafeCheckpointHook', 'ResumedSettingsHook'} <= set(
        hook_names(runner))
    assert 'CheckpointHook' not in hook_names(runner)
    if runner_type:  # resolved in the config
        assert (runner._resume, runner._load_from) == (
            False, f'{stage1}/epoch_1.pth')
    else:  # resolved when the runner loads
        runner.choose_checkpoint()
        assert (runner._resume, runner._load_from) == (
            False, f'{stage1}/epoch_1.pth')


def test_resume_with_no_complete_checkpoint_guards_the_work_dir(tmp_path):
    """--resume that finds no complete checkpoint starts a new run, which
    must not mix its checkpoints with a truncated one left there."""
    import os
    import subprocess
    import sys

    from tiny_runs import REPO, dump
    from toy_regression import toy_config
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    (work_dir / 'epoch_1.pth').write_bytes(b'PK\x03\x04 cut')
    config = dump(toy_config(1), tmp_path / 'toy.py')
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
         '--work-dir', str(work_dir), '--resume'],
        capture_output=True, text=True, cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(REPO / 'tests'), os.environ.get('PYTHONPATH', '')])))
    assert out.returncode != 0
    assert 'already holds the checkpoints of a run' in out.stderr
    assert (work_dir / 'epoch_1.pth').read_bytes() == b'PK\x03\x04 cut'
