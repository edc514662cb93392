"""``SafeRunner``: mmengine's ``Runner`` with mmlt's run infrastructure.

``tools/train.py`` and ``tools/test.py`` build it for every config that
names no ``runner_type``; ``DisAlignRunner`` (stage 2) derives from it. So
each rule below lives here only:

* the runtime (``setup_runtime``: the safe checkpoint reader, ...) is set
  up when the runner is built, whoever builds it;
* a distributed run (``launcher`` other than ``'none'``) gets mmlt's
  collective timeout, and without a GPU the gloo backend and
  ``AnyDeviceDDP`` (``setup_distributed``; from the config, in
  ``from_cfg``);
* checkpoints are saved by ``SafeCheckpointHook`` in place of mmengine's
  ``CheckpointHook``, every argument kept (a crash during a save leaves
  the last complete checkpoint);
* ``ResumedSettingsHook`` records the optimizer / schedule settings in
  each checkpoint and, on a resume, says which ones the config changed;
* which checkpoint a run starts from (:func:`checkpoint_to_start_from`).
"""
from typing import Optional, Tuple, Union

from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .checkpointing import (latest_complete_checkpoint, run_checkpoint,
                            with_safe_checkpoint_hook)
from .distributed import setup_distributed
from .hooks import ResumedSettingsHook
from ..utils.mmengine_internals import relies_on
from .runtime import setup_runtime

#: ``resume`` value for "the work dir's latest checkpoint if there is one,
#: else start anew from ``load_from``" (``tools/train.py --resume``)
AUTO_RESUME = 'auto'


def checkpoint_to_start_from(
        work_dir: str, resume: Union[bool, str, None],
        load_from: Optional[str]) -> Tuple[bool, Optional[str], str]:
    """The one rule for the checkpoint a run starts from.

    Returns ``(resume, load_from, note)``: whether to resume (optimizer,
    schedule and loop state too), the checkpoint to read (None: none), and
    what to log ('' for nothing).

    * ``resume='auto'``, or ``resume=True`` without ``load_from``: the work
      dir's latest complete checkpoint (``latest_complete_checkpoint``;
      mmengine's own lookup would read ``last_checkpoint``'s relative path
      from the cwd). Without one the run starts anew, from ``load_from``
      when it is set (a DisAlign stage 2 sets it to stage 1).
    * ``resume=True`` with ``load_from``: resume from that checkpoint.
    * ``load_from`` a directory (a stage-1 run's work dir, as the stage-2
      configs name it): its latest complete checkpoint; an error when it
      holds none.
    """
    note = ''
    if resume == AUTO_RESUME or (resume and load_from is None):
        latest = latest_complete_checkpoint(work_dir)
        if latest is not None:
            return True, latest, ''
        resume = False
        note = (f'resume: no checkpoint in {work_dir}; starting the run from '
                'the beginning' + (f' (load_from={load_from})'
                                   if load_from else '') + '.')
    if load_from is not None:
        load_from, taken = run_checkpoint(
            load_from, 'load_from',
            'train the run it belongs to first (stage 1 for a stage-2 '
            'config: python tools/train.py <stage-1 config>), or set '
            'load_from to a checkpoint file (--cfg-options load_from=PATH).')
        note = ' '.join(filter(None, [note, taken]))
    return bool(resume), load_from, note


def choose_checkpoint_in_config(cfg) -> bool:
    """:func:`checkpoint_to_start_from` applied to a config's ``resume``
    and ``load_from`` before a runner is built (its note logged); returns
    whether the run resumes. A runner applying the rule again to the
    result changes nothing and looks up nothing."""
    cfg.resume, cfg.load_from, note = checkpoint_to_start_from(
        cfg.work_dir, cfg.get('resume'), cfg.get('load_from'))
    if note:
        print_log(note, 'current')
    return cfg.resume


def with_run_hooks(default_hooks, custom_hooks) -> Tuple[dict, list]:
    """The hooks of every mmlt run: ``SafeCheckpointHook`` in place of
    mmengine's ``CheckpointHook`` (``with_safe_checkpoint_hook``), and
    ``ResumedSettingsHook`` unless listed."""
    custom_hooks = list(custom_hooks or [])
    if not any(is_hook(h, ResumedSettingsHook) for h in custom_hooks):
        custom_hooks.append(dict(type='ResumedSettingsHook'))
    return with_safe_checkpoint_hook(default_hooks), custom_hooks


@RUNNERS.register_module()
class SafeRunner(Runner):
    """mmengine's ``Runner`` with the rules of the module doc."""

    def __init__(self, *args, **kwargs):
        setup_runtime()  # a second call changes nothing
        super().__init__(*args, **kwargs)

    @classmethod
    def from_cfg(cls, cfg) -> 'SafeRunner':
        # before mmengine's setup_env starts the process group
        setup_distributed(cfg, cfg.get('launcher', 'none'))
        return super().from_cfg(cfg)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(*with_run_hooks(default_hooks, custom_hooks))

    def choose_checkpoint(self) -> str:
        """Apply :func:`checkpoint_to_start_from` to the runner's ``resume``
        and ``load_from`` (once) and log its note; returns the note."""
        if getattr(self, '_checkpoint_note', None) is not None:
            return self._checkpoint_note
        self._resume, self._load_from, note = checkpoint_to_start_from(
            self.work_dir, self._resume, self._load_from)
        if note:
            self.logger.info(note)
        self._checkpoint_note = note
        return note

    def load_or_resume(self) -> None:
        if not self._has_loaded:
            self.choose_checkpoint()
        super().load_or_resume()


# load_or_resume above sets the two attributes mmengine's reads
relies_on('mmengine.runner.Runner.load_or_resume', '9c653d074f921631')


def is_hook(hook, hook_cls: type) -> bool:
    """Whether ``hook`` (a config dict or an instance) is a ``hook_cls``."""
    kind = hook.get('type') if isinstance(hook, dict) else type(hook)
    if isinstance(kind, str):
        return kind.rsplit('.', 1)[-1] == hook_cls.__name__
    return isinstance(kind, type) and issubclass(kind, hook_cls)


def build_runner(cfg) -> Runner:
    """The config's ``runner_type``, else ``SafeRunner``.

    A ``runner_type`` that is not a ``SafeRunner`` (mmengine's
    ``FlexibleRunner``, a toolbox's runner) gets the same rules through its
    config: the checkpoint to start from, the distributed setup, the
    checkpoint hook and the settings record."""
    if 'runner_type' not in cfg:
        return SafeRunner.from_cfg(cfg)
    runner_cls = RUNNERS.get(cfg.runner_type) if isinstance(
        cfg.runner_type, str) else cfg.runner_type
    if not (isinstance(runner_cls, type) and issubclass(runner_cls,
                                                         SafeRunner)):
        choose_checkpoint_in_config(cfg)
        setup_distributed(cfg, cfg.get('launcher', 'none'))
        cfg.default_hooks, cfg.custom_hooks = with_run_hooks(
            cfg.get('default_hooks'), cfg.get('custom_hooks'))
    return RUNNERS.build(cfg)
