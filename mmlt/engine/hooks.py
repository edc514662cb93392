"""Hooks that stop a run on wrong numbers instead of saving them.

Registered in mmengine's root ``HOOKS``, so every toolbox's config finds them
by type name (``custom_hooks = [dict(type='FiniteLossHook')]``) whatever its
``default_scope``.

* ``FiniteLossHook``: stop training at the first iteration whose loss is NaN
  or infinite, naming the iteration and the loss terms, before any
  checkpoint of the poisoned model is written; and refuse to write a
  checkpoint whose weights are not finite.
* ``CheckpointMatchesModelHook``: fail when the checkpoint loaded into the
  model lacks some of its weights or has other shapes (``tools/test.py``
  registers it; mmengine only warns and evaluates a partly random model).
* ``ResumedSettingsHook``: on ``--resume``, warn when the config's optimizer
  or schedule differs from the interrupted run's (``SafeRunner``
  registers it; the checkpoint's state silently wins).
"""
import math
import re
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_reduce, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from .checks import (SETTINGS_KEY, check_checkpoint_matches_model,
                     check_finite_weights,
                     resumed_settings, resumed_settings_changed)


def _loss_terms(outputs: Dict) -> Dict[str, torch.Tensor]:
    """The total ``loss`` and every term whose name holds 'loss' (the terms
    mmengine's ``parse_losses`` sums); other logged values (accuracies...)
    are not checked."""
    return {k: v for k, v in outputs.items()
            if 'loss' in k and isinstance(v, torch.Tensor)}


def _logged_counts(runner) -> Optional[Dict[str, int]]:
    """How many values each ``train/*`` scalar of the message hub holds."""
    hub = getattr(runner, 'message_hub', None)
    scalars = getattr(hub, 'log_scalars', None)
    if not isinstance(scalars, dict):
        return None
    return {k: len(v.data[0]) for k, v in scalars.items()
            if k.startswith('train/')}


def _logged_this_iter(runner, before: Optional[Dict[str, int]],
                      terms: Dict[str, torch.Tensor]) -> Optional[List[float]]:
    """The values of ``terms`` as mmengine's ``RuntimeInfoHook`` (priority
    VERY_HIGH, before ``FiniteLossHook``) logged them this iteration: floats
    it has already read to the host, so checking them needs no host-device
    synchronisation of its own. None unless every term gained exactly one
    value since ``before_train_iter`` (then the tensors are read)."""
    after = _logged_counts(runner)
    if before is None or after is None:
        return None
    values = []
    for key in terms:
        name = f'train/{key}'
        if name not in after or after[name] != before.get(name, 0) + 1:
            return None
        values.append(float(runner.message_hub.log_scalars[name].current()))
    return values


def _sample_paths(data_batch, limit: int = 8) -> List[str]:
    """Image / label-map paths of a batch, for the error message: from the
    data samples' metainfo (OpenMMLab's pseudo_collate), or a collated
    ``img_path`` list (default_collate)."""
    if not isinstance(data_batch, dict):
        return []
    paths = []
    collated = data_batch.get('img_path')
    if isinstance(collated, (list, tuple)):
        paths = [str(p) for p in collated]
    for sample in data_batch.get('data_samples') or []:
        meta = getattr(sample, 'metainfo', None)
        if meta is None and isinstance(sample, dict):
            meta = sample
        for key in ('img_path', 'seg_map_path'):
            if isinstance(meta, dict) and meta.get(key):
                paths.append(str(meta[key]))
                break
    more = len(paths) - limit
    return paths[:limit] + ([f'... {more} more'] if more > 0 else [])


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training when the loss becomes NaN or infinite.

    After every training iteration it checks the total loss; if it is not
    finite it raises ``FloatingPointError`` naming the iteration (1-based,
    as the log and ``iter_N.pth``; plus epoch and batch in epoch-based
    loops), the loss terms that are not finite and the batch's image paths.
    mmengine has already taken the optimizer step of that iteration, so the
    model in memory may hold NaN; the error is raised before
    ``CheckpointHook`` runs (priority ``LOW`` < ``VERY_LOW``), so the last
    checkpoint on disk is the last good one.

    Before every checkpoint is written it also checks the floating-point
    tensors of the state dict that is about to be saved (after ``EMAHook``
    has swapped in the averaged weights): a step can blow the weights up to
    inf while its own loss was still finite. ``check_weights=False`` turns
    this off (for a model that keeps a non-finite buffer on purpose).

    With several processes the flag is all-reduced, so every rank stops at
    the same iteration instead of the others hanging in the next all-reduce.

    Why not mmdet's ``CheckInvalidLossHook``: it is registered in mmdet only
    (mmseg / mmpretrain configs cannot use it), checks every 50 iterations
    by default (a poisoned checkpoint can be written in between), fails
    through ``assert`` (stripped by ``python -O``) with an empty message
    (the message is the return value of ``logger.info``, None) that names
    neither the iteration nor the loss term, and never looks at the weights
    it saves. Checking every iteration costs nothing measurable: mmengine's
    ``RuntimeInfoHook`` already moves every loss to the host each iteration.

    Args:
        check_weights: refuse to save a checkpoint with NaN / inf weights.
    """
    priority = 'LOW'  # after LoggerHook (BELOW_NORMAL), before CheckpointHook

    def __init__(self, check_weights: bool = True):
        self.check_weights = check_weights
        self._scalars_before = None

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._scalars_before = _logged_counts(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        terms = _loss_terms(outputs) if isinstance(outputs, dict) else {}
        if not terms:  # a train_step that returns no losses: nothing to check
            return
        total = terms.get('loss')
        checked = {'loss': total} if total is not None else terms
        logged = _logged_this_iter(runner, self._scalars_before, checked)
        if logged is not None:  # no host-device synchronisation
            local_bad = not all(math.isfinite(v) for v in logged)
        elif total is not None:
            local_bad = not bool(torch.isfinite(total.detach()).all())
        else:
            local_bad = not all(
                bool(torch.isfinite(v.detach()).all()) for v in terms.values())
        if get_world_size() > 1:
            device = next(iter(terms.values())).device
            flag = torch.tensor(float(local_bad), device=device)
            all_reduce(flag)
            any_bad = bool(flag.item() > 0)
        else:
            any_bad = local_bad
        if not any_bad:
            return
        message = self._message(runner, batch_idx, data_batch, terms,
                                local_bad)
        runner.logger.error(message)  # into the log file, too
        raise FloatingPointError(message)

    @staticmethod
    def _message(runner, batch_idx, data_batch, terms, local_bad) -> str:
        where = f'iteration {runner.iter + 1}'
        if isinstance(getattr(runner, 'train_loop', None),
                      EpochBasedTrainLoop):
            where += f' (epoch {runner.epoch + 1}, batch {batch_idx + 1})'
        values = {k: float(v.detach().float().mean()) for k, v in
                  terms.items()}
        bad = [f'{k}={v}' for k, v in values.items() if not math.isfinite(v)]
        good = [f'{k}={v:.4g}' for k, v in values.items() if math.isfinite(v)]
        if local_bad:
            what = 'non-finite: ' + ', '.join(bad)
            if good:
                what += '; finite: ' + ', '.join(good)
        else:
            what = (f'on another process (rank {get_rank()} has finite '
                    f'losses: {", ".join(good)})')
        paths = _sample_paths(data_batch) if local_bad else []
        batch = f' Batch: {", ".join(paths)}.' if paths else ''
        # CheckpointHook records each checkpoint it saves (and --resume
        # restores the record): name it only when there is one
        last = runner.message_hub.get_info('last_ckpt')
        if last:
            before = f'the newest checkpoint, {last}, is from before.'
        else:
            before = ('this run has written no checkpoint yet, so none '
                      'holds a good state to resume from.')
        return (
            f'The training loss is not finite at {where}: {what}.{batch} '
            'Training stops here and writes no checkpoint of this state: the '
            'optimizer step of this iteration may have put NaN / inf into the '
            f'weights; {before} Usual causes: a learning rate too high '
            '(lower it, or add warm-up / '
            'optim_wrapper.clip_grad=dict(max_norm=...)), a '
            'bad sample in this batch, or a loss given a class with no '
            'training data.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.check_weights:
            return
        state = checkpoint.get('state_dict') or {}
        bad = [k for k, v in state.items()
               if isinstance(v, torch.Tensor) and v.is_floating_point()
               and not bool(torch.isfinite(v).all())]
        if not bad:
            return
        # meta['iter'] counts the iterations done (1-based); meta['epoch']
        # is 0-based in iteration-based checkpoints, so it is left out
        at = (checkpoint.get('meta') or {}).get('iter', runner.iter)
        message = (
            f'Not writing the checkpoint after iteration {at} to '
            f'{runner.work_dir}: '
            f'{len(bad)} of its tensors hold NaN / inf, e.g. '
            f'{", ".join(bad[:5])}. The weights diverged in a step whose '
            'loss was still finite (a learning rate too high? add '
            'optim_wrapper.clip_grad=dict(max_norm=...)). Set '
            "dict(type='FiniteLossHook', check_weights=False) only for a "
            'model that keeps non-finite values on purpose.')
        runner.logger.error(message)
        raise FloatingPointError(message)


def loaded_checkpoint(runner, checkpoint: dict):
    """What a hook's ``after_load_checkpoint`` checks: the checkpoint's
    state dict with mmengine's ``module.`` prefix dropped (as it loads it),
    the unwrapped model, and the file's name for messages."""
    state = checkpoint.get('state_dict', checkpoint)
    state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    filename = getattr(runner, '_load_from', None) or 'the checkpoint'
    return state, model, filename


@HOOKS.register_module()
class CheckpointMatchesModelHook(Hook):
    """Fail when a loaded checkpoint does not fit the model.

    mmengine's ``load_from`` loads non-strictly: missing weights and shape
    mismatches are only logged, and the model keeps its random init there.
    That is right for fine-tuning (``tools/train.py``), wrong for
    evaluation: ``tools/test.py`` registers this hook, which raises
    ``ValueError`` naming the missing / mismatched weights (DisAlign's
    calibration keys may be missing: they start at the identity), and
    weights that hold NaN or inf. Keys the model does not have are only
    reported by mmengine, as before.
    """
    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state, model, filename = loaded_checkpoint(runner, checkpoint)
        check_checkpoint_matches_model(model, state, f'checkpoint {filename}')
        check_finite_weights(state, f'checkpoint {filename}')


@HOOKS.register_module()
class ResumedSettingsHook(Hook):
    """Warn on ``--resume`` when the optimizer or schedule settings of the
    config differ from the interrupted run's.

    mmengine restores the optimizer's and the schedulers' state from the
    checkpoint (learning rates, momentum buffers, ``T_max``, milestones...),
    so a changed ``lr`` or schedule in the config has no effect on the
    resumed run; the warning says which settings and that the checkpoint's
    win. Each checkpoint saved while the hook is registered carries those
    settings as JSON data in ``meta['mmlt_resumed_settings']``; the config
    text mmengine also saves there is never read (reading it would run it).
    """
    priority = 'VERY_HIGH'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[SETTINGS_KEY] = resumed_settings(
            runner.cfg)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return
        saved = (checkpoint.get('meta') or {}).get(SETTINGS_KEY)
        if not isinstance(saved, str):
            runner.logger.info(
                '--resume: the checkpoint records no optimizer / schedule '
                'settings (saved before mmlt recorded them), so a change of '
                'them in the config is not detected; the checkpoint\'s '
                'optimizer and scheduler state win.')
            return
        changes = resumed_settings_changed(saved, runner.cfg)
        if changes:
            runner.logger.warning(
                f'--resume: {len(changes)} optimizer / schedule settings of '
                'the config differ from the interrupted run\'s: '
                + '; '.join(changes[:6]) + '. The checkpoint\'s optimizer '
                'and scheduler state win, so the resumed run keeps the '
                'interrupted run\'s values. Start a new run (another '
                '--work-dir, load_from=the checkpoint) to use the new ones.')
