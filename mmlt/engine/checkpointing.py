"""Checkpoints that a crash cannot break, and a ``--resume`` that finds
the newest complete one.

mmengine's ``CheckpointHook`` deletes the oldest checkpoint first, then
writes the new file in place, then rewrites ``last_checkpoint`` in place
with an absolute path. A process killed during a save can thus leave no
complete checkpoint at all, a truncated one, or a pointer to a deleted file;
and a copied work dir resumes from the original's files.

* ``AtomicLocalBackend`` (file backend ``'mmlt_atomic_local'``): mmengine's
  ``LocalBackend`` whose writes go to a temporary file that is fsynced and
  renamed over the target, so a file is either the old one or the complete
  new one.
* ``SafeCheckpointHook``: ``CheckpointHook`` that writes local checkpoints
  through that backend, updates ``last_checkpoint`` the same way with a
  path relative to the work dir, and deletes superseded checkpoints only
  once the new one and the pointer are on disk.
  ``SafeRunner`` (so ``DisAlignRunner``) puts it in place of
  ``CheckpointHook`` (``with_safe_checkpoint_hook``), every argument kept.
* ``latest_complete_checkpoint``: what ``--resume`` resumes from: the
  checkpoint ``last_checkpoint`` names (relative, or an old absolute path),
  or, with a warning, the newest complete ``*.pth`` of the work dir when the
  pointer is missing, empty or names a missing / truncated file.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from pathlib import Path
from typing import List, Optional, Tuple, Union

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.registry import HOOKS

from mmlt.utils.atomic_write import write_atomically

from ..utils.mmengine_internals import relies_on

ATOMIC_BACKEND = 'mmlt_atomic_local'
POINTER = 'last_checkpoint'
# message-hub key: the checkpoints the saved one supersedes, deleted after
# the save; a run killed before deleting them deletes them on resume
SUPERSEDED_KEY = 'superseded_ckpt_ids'


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put`` / ``put_text`` replace the file
    atomically (``write_atomically``). Registered under its own name,
    ``backend_args=dict(backend='mmlt_atomic_local')``; the default local
    backend is left as it is."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        write_atomically(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        write_atomically(obj.encode(encoding), filepath)


def pointer_text(checkpoint: str, work_dir: str) -> str:
    """What ``last_checkpoint`` holds: the checkpoint's path relative to
    the work dir when it lies inside it (a copied or moved work dir then
    resumes from its own files), else the path as it is."""
    if '://' in checkpoint:
        return checkpoint
    relative = osp.relpath(osp.abspath(checkpoint), osp.abspath(work_dir))
    return checkpoint if relative.startswith(os.pardir) else relative


def write_pointer(work_dir: str, checkpoint: str) -> None:
    write_atomically(pointer_text(checkpoint, work_dir).encode(),
                     osp.join(work_dir, POINTER))


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves a crash cannot break (module doc).

    Takes ``CheckpointHook``'s arguments. Checkpoints saved to a local
    directory go through ``AtomicLocalBackend`` unless ``backend_args`` or
    ``file_client_args`` name another backend; ``max_keep_ckpts`` and
    ``save_best`` delete the checkpoints they replace only after the new one
    and ``last_checkpoint`` are complete.
    """

    def before_train(self, runner) -> None:
        out_dir = str(self.out_dir or runner.work_dir)
        if (self.file_client_args is None and '://' not in out_dir
                and self.backend_args in (None, dict(backend='local'))):
            self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        superseded = runner.message_hub.runtime_info.get(SUPERSEDED_KEY)
        kept = getattr(self, 'keep_ckpt_ids', None)  # max_keep_ckpts > 0
        resumed = self._path_of(kept[-1]) if superseded and kept else None
        if resumed and is_main_process() and self.file_backend.exists(
                resumed):
            # resumed from a checkpoint whose run was killed before it
            # deleted the ones it replaced; the pointer may still name one
            write_pointer(runner.work_dir, str(resumed))
            self._remove([self._path_of(step) for step in superseded])

    def _path_of(self, step) -> str:
        return self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))

    def _remove(self, paths: List[str]) -> None:
        for path in paths:
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        # mmengine's method deletes the oldest checkpoint, saves, then writes
        # last_checkpoint in place, all in one body; the same bookkeeping
        # here, in the order save, pointer, delete.
        superseded = []
        if self.max_keep_ckpts > 0 and not (
                self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            # (_save_best_checkpoint saves the same step a second time)
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                superseded.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        runner.message_hub.update_info(SUPERSEDED_KEY, superseded)

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        # only rank 0 writes (mmengine's save_checkpoint is master_only)
        if not is_main_process():
            return
        write_pointer(runner.work_dir, str(self.last_ckpt))
        self._remove([self._path_of(s) for s in superseded])

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:  # nor a file backend outside of training
            return
        # mmengine deletes the previous best checkpoint before it saves the
        # new one: its deletions wait until the method has returned
        backend = self.file_backend
        self.file_backend = _DeferredRemovals(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
            deferred = self.file_backend.paths
        finally:
            self.file_backend = backend
        self._remove(deferred)


# SafeCheckpointHook replaces the first two and extends the third
relies_on('mmengine.hooks.CheckpointHook._save_checkpoint_with_step',
          'cdbc1b54c7c88d95')
relies_on('mmengine.hooks.CheckpointHook._save_best_checkpoint',
          '8e1e477297ea08d7')
relies_on('mmengine.hooks.CheckpointHook.before_train', '88570c95d1e437f5')


class _DeferredRemovals:
    """A file backend that records ``remove`` / ``rmtree`` instead of
    doing them; everything else goes to the wrapped backend."""

    def __init__(self, backend):
        self._backend = backend
        self.paths = []

    def remove(self, path) -> None:
        self.paths.append(path)

    rmtree = remove

    def __getattr__(self, name):
        return getattr(self._backend, name)


def with_safe_checkpoint_hook(default_hooks: Optional[dict]) -> dict:
    """``default_hooks`` with ``SafeCheckpointHook`` in place of mmengine's
    ``CheckpointHook`` (every argument kept), also where the config leaves
    mmengine its default one. A disabled (None) or other checkpoint hook is
    left alone."""
    hooks = dict(default_hooks or {})
    if 'checkpoint' not in hooks:
        hooks['checkpoint'] = dict(type='SafeCheckpointHook', interval=1)
        return hooks
    hook = hooks['checkpoint']
    if isinstance(hook, dict) and hook.get('type') in (
            'CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook):
        hook = type(hook)(hook)  # a Config's ConfigDict stays one
        hook['type'] = 'SafeCheckpointHook'
        hooks['checkpoint'] = hook
    return hooks


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint, or None if it is.

    torch saves a zip whose central directory comes last: a file cut short
    has none. Files of torch's legacy (non-zip) format and directories
    (deepspeed) cannot be checked this cheaply and pass.
    """
    if osp.isdir(path):
        return None
    if not osp.isfile(path):
        return 'does not exist'
    if osp.getsize(path) == 0:
        return 'is empty'
    with open(path, 'rb') as f:
        if f.read(2) != b'PK':
            return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        return f'is not a complete checkpoint (truncated? {error})'
    if not any(n == 'data.pkl' or n.endswith('/data.pkl') for n in names):
        return 'is not a torch checkpoint (no data.pkl)'
    return None


def _step(name: str) -> int:
    """The step of ``epoch_12.pth`` / ``iter_300.pth`` (-1 if none)."""
    match = re.fullmatch(r'[^-]*?(\d+)\.pth', name)
    return int(match.group(1)) if match else -1


def _saved_checkpoints(work_dir: str) -> List[str]:
    """The work dir's ``*.pth``, newest first (by step, then time); not the
    ``best_*`` ones, which hold no optimizer state to resume."""
    paths = [
        osp.join(work_dir, n) for n in os.listdir(work_dir)
        if n.endswith('.pth') and not n.startswith('best_')
    ]
    return sorted(
        paths,
        key=lambda p: (_step(osp.basename(p)), osp.getmtime(p)),
        reverse=True)


def _pointed_checkpoint(text: str, work_dir: str, purpose: str) -> str:
    if '://' in text:
        return text
    if not osp.isabs(text):
        return osp.join(work_dir, text)
    # an absolute path (mmengine's, or mmlt's for an out_dir elsewhere): a
    # copied work dir holds the same file itself
    own = osp.join(work_dir, osp.basename(text))
    if (osp.realpath(osp.dirname(text)) != osp.realpath(work_dir)
            and osp.isfile(own)):
        print_log(
            f'{osp.join(work_dir, POINTER)} names {text}, outside the work '
            f'dir (a copied work dir?); {_taking(purpose)} its own {own}.',
            logger='current')
        return own
    return text


def _completed_after_pointer(path: str, pointer: str,
                             purpose: str) -> Optional[str]:
    """A complete checkpoint of a later step than ``path``, beside it and
    written after the pointer: the run was killed between renaming the
    checkpoint and the pointer. (Older files of a later step are left over
    from an earlier, longer run in the same work dir.)"""
    directory, step = osp.dirname(path), _step(osp.basename(path))
    if step < 0:
        return None
    for later in _saved_checkpoints(directory):
        if (_step(osp.basename(later)) > step
                and osp.getmtime(later) > osp.getmtime(pointer)
                and checkpoint_problem(later) is None):
            print_log(
                f'{purpose}: {later} is complete and newer than {path}, '
                f'which {pointer} names (the run stopped before updating '
                f'it); {_taking(purpose)} the newer one.',
                logger='current')
            return later
    return None


def _taking(purpose: str) -> str:
    return 'resuming from' if purpose == '--resume' else 'loading'


def latest_complete_checkpoint(work_dir: str,
                               purpose: str = '--resume') -> Optional[str]:
    """The checkpoint ``--resume`` continues from (module doc), or None
    when the work dir holds no complete checkpoint. ``purpose`` starts the
    warnings (e.g. ``'load_from=DIR'`` where a run's work dir is the
    checkpoint to load)."""
    if not osp.isdir(work_dir):
        return None
    pointer = osp.join(work_dir, POINTER)
    if not osp.isfile(pointer):
        problem = f'{pointer} is missing'
    else:
        with open(pointer) as f:
            text = f.read().strip()
        if not text:
            problem = f'{pointer} is empty'
        else:
            path = _pointed_checkpoint(text, work_dir, purpose)
            broken = None if '://' in path else checkpoint_problem(path)
            if broken is None:
                return _completed_after_pointer(path, pointer,
                                                purpose) or path
            problem = f'{pointer} names {text}, which {broken}'
    for path in _saved_checkpoints(work_dir):
        if checkpoint_problem(path) is None:
            print_log(
                f'{purpose}: {problem}; {_taking(purpose)} {path}, the newest '
                'complete checkpoint of the work dir.',
                logger='current',
                level=logging.WARNING)
            return path
    if osp.isfile(pointer):
        print_log(
            f'{purpose}: {problem}, and {work_dir} holds no other complete '
            'checkpoint.',
            logger='current',
            level=logging.WARNING)
    return None


def run_checkpoint(path: str, name: str, hint: str) -> Tuple[str, str]:
    """``path`` itself, or, where it is a run's work dir, that run's latest
    complete checkpoint; with the note that says which (the run's last
    checkpoint need not be its final one), '' for a file. Raises
    ``FileNotFoundError`` naming the setting ``name`` and the way out
    ``hint`` for a work dir that holds no complete checkpoint."""
    if not osp.isdir(path):
        return path, ''
    found = latest_complete_checkpoint(path, purpose=f'{name}={path}')
    if found is None:
        raise FileNotFoundError(
            f'{name}={path} is a directory without a complete checkpoint: '
            f'{hint}')
    return found, f'{name}={path}: its latest complete checkpoint, {found}.'
