"""tools/train.py with its checkpoint saves made observable and killable at
any step, for tests/test_engine/test_crash_safe_checkpoints.py:

    python tests/crash_during_save.py CONFIG --work-dir DIR [train.py args]

Each save (``CheckpointHook._save_checkpoint``, which mmengine's hook and
mmlt's both use) is cut into steps at the file operations a kill can fall
between: the serialisation (``torch.save``), the middle of every write to a
checkpoint or ``last_checkpoint`` file (half of it written), every
``os.replace`` and every ``os.remove``. Each step is appended to
``$CRASH_EVENTS``; at step E of this process's save S
(``$CRASH_KILL_AT=S:E``) the process writes ``paused`` and sleeps until the
test kills it. Nothing changes outside the saves; the script then runs the
real tools/train.py.
"""
import builtins
import os
import os.path as osp
import runpy
import sys
import time

import torch
from mmengine.hooks import CheckpointHook

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
EVENTS = os.environ['CRASH_EVENTS']
KILL_SAVE, KILL_EVENT = map(int,
                            os.environ.get('CRASH_KILL_AT', '0:0').split(':'))
state = dict(save=0, event=0, saving=False)
_open, _replace, _remove = builtins.open, os.replace, os.remove


def log(line):
    with _open(EVENTS, 'a') as f:
        f.write(line + '\n')


def step(what):
    if not state['saving']:
        return
    state['event'] += 1
    log(f'event {state["save"]}:{state["event"]} {what}')
    if (state['save'], state['event']) == (KILL_SAVE, KILL_EVENT):
        log('paused')
        time.sleep(3600)


def _save_checkpoint(self, runner):
    state.update(save=state['save'] + 1, event=0, saving=True)
    epoch = runner.epoch + 1
    log(f'save {state["save"]} begins: epoch {epoch}')
    try:
        original_save_checkpoint(self, runner)
    finally:
        state['saving'] = False
    log(f'save {state["save"]} complete: epoch {epoch}')


class HalfWrites:
    """A file whose writes pause (``step``) half-way."""

    def __init__(self, file, name):
        self._file, self._name = file, name

    def write(self, data):
        half = len(data) // 2
        self._file.write(data[:half])
        self._file.flush()
        step(f'half of {self._name} written')
        return half + self._file.write(data[half:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def __getattr__(self, name):
        return getattr(self._file, name)


def open_(file, mode='r', *args, **kwargs):
    f = _open(file, mode, *args, **kwargs)
    name = osp.basename(str(file))
    if state['saving'] and 'w' in mode and (
            name.startswith('last_checkpoint') or '.pth' in name):
        return HalfWrites(f, name)
    return f


def save(obj, f, *args, **kwargs):
    step('serialise')
    return original_torch_save(obj, f, *args, **kwargs)


def replace(src, dst, *args, **kwargs):
    step(f'replace {osp.basename(str(src))} -> {osp.basename(str(dst))}')
    return _replace(src, dst, *args, **kwargs)


def remove(path, *args, **kwargs):
    step(f'remove {osp.basename(str(path))}')
    return _remove(path, *args, **kwargs)


original_save_checkpoint = CheckpointHook._save_checkpoint
original_torch_save = torch.save
CheckpointHook._save_checkpoint = _save_checkpoint
torch.save = save
builtins.open = open_
os.replace, os.remove = replace, remove

train = osp.join(REPO, 'tools', 'train.py')
sys.argv = [train, *sys.argv[1:]]
runpy.run_path(train, run_name='__main__')
