"""Resume that continues the interrupted run exactly.

mmengine saves the model, optimizer, schedulers and loop counters in a
checkpoint, but not the random number generators: after ``--resume`` the
runner re-seeds them with ``randomness.seed``, so the augmentations (random
crops, Mixup / CutMix draws) of the resumed epochs differ from those of the
uninterrupted run and so do the final metrics. ``RNGStateHook`` stores every
rank's Python, NumPy and torch (CPU and CUDA) generator states in each
checkpoint and restores them on ``--resume`` (not on ``load_from``), so a
killed and resumed run ends where the uninterrupted one ends. Samplers need
nothing: mmengine's ``DefaultSampler`` shuffles by ``seed + epoch``.

Validation runs after the checkpoint is saved and draws from torch's
generator (each DataLoader iterator takes a seed), which the resumed run
would not repeat; the hook therefore puts the generators back after each
validation, which also makes training independent of ``val_interval``.
Iteration-based loops that resume by replaying the data loader (mmengine's
``IterBasedTrainLoop``) run the pipeline again for the skipped batches, so
exact repetition holds for epoch-based loops.
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


def get_rng_state() -> dict:
    """Every generator's state as plain data (lists, ints, floats, str and
    tensors): a checkpoint holding it loads with ``weights_only`` and no
    numpy type in the allow-list (``mmlt.engine.checkpoint_io``)."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = dict(
        python=[version, list(internal), gauss_next],
        numpy=[str(name), np.asarray(keys).tolist(), int(pos),
               int(has_gauss), float(cached_gaussian)],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore :func:`get_rng_state`'s states (also the numpy arrays and
    tuples that checkpoints of earlier mmlt versions hold)."""
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    np.random.set_state(tuple(state['numpy']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the generators' states of every rank with each checkpoint and
    restore this rank's on resume (module doc)."""
    # after_train_epoch before CheckpointHook's (VERY_LOW): the states are
    # taken where the checkpoint is saved
    priority = 'LOW'

    def __init__(self):
        self._before_val = None
        self._epoch_states = None

    def before_val_epoch(self, runner) -> None:
        self._before_val = get_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._before_val is not None:
            set_rng_state(self._before_val)
            self._before_val = None

    def before_train_epoch(self, runner) -> None:
        self._epoch_states = None

    def after_train_epoch(self, runner) -> None:
        # runner.save_checkpoint runs on rank 0 only, so every rank's state
        # is gathered here, where all ranks are
        state = get_rng_state()
        self._epoch_states = (all_gather_object(state)
                              if is_distributed() else [state])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._epoch_states is not None:  # an end-of-epoch checkpoint
            checkpoint['rng_state'] = self._epoch_states
        elif not is_distributed():  # e.g. an iteration-based checkpoint
            checkpoint['rng_state'] = [get_rng_state()]
        # else: mid-epoch in a distributed run; the other ranks' states are
        # out of reach here and a resume re-seeds (with a warning)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from: a new run, seeded by its config
        states = checkpoint.get('rng_state')
        rank, world_size = get_dist_info()
        if states is None:
            runner.logger.warning(
                'RNGStateHook: the checkpoint has no generator states (saved '
                'without this hook); the resumed run re-seeds them and will '
                'not repeat the interrupted run exactly.')
            return
        if len(states) != world_size:
            runner.logger.warning(
                f'RNGStateHook: the checkpoint holds {len(states)} ranks\' '
                f'generator states, this run has {world_size} ranks; '
                're-seeding instead.')
            return
        set_rng_state(states[rank])
        runner.logger.info('RNGStateHook: restored the generator states of '
                           'the interrupted run.')
