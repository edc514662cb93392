"""Resume that continues the interrupted run exactly.

mmengine saves the model, optimizer, schedulers and loop counters in a
checkpoint, but not the random number generators: after ``--resume`` the
runner re-seeds them with ``randomness.seed``, so the augmentations (random
crops, Mixup / CutMix draws) of the resumed epochs differ from those of the
uninterrupted run and so do the final metrics. ``RNGStateHook`` stores every
rank's Python, NumPy and torch (CPU and CUDA) generator states in each
checkpoint and restores them on ``--resume`` (not on ``load_from``), so a
killed and resumed run ends where the uninterrupted one ends. Samplers need
nothing: mmengine's ``DefaultSampler`` shuffles by ``seed + epoch``, its
``InfiniteSampler`` by ``seed``. (That takes a fixed ``randomness.seed``, as
the demo configs set: without one the resumed run draws a new seed, and its
samplers are built with it before the checkpoint is read.)

Validation runs after the checkpoint is saved and draws from torch's
generator (each DataLoader iterator takes a seed), which the resumed run
would not repeat; the hook therefore puts the generators back after each
validation, which also makes training independent of ``val_interval``.

Iteration-based loops (mmengine's ``IterBasedTrainLoop``, e.g. the ADE20K
and LVIS stage 2) resume by replaying the data loader: ``next()`` once per
batch already trained. That brings the sampler (``InfiniteSampler``, whose
position is the number of indices drawn, and the buckets of mmdet's
``AspectRatioBatchSampler``) to where the checkpoint left it, but with
``num_workers=0`` it also runs the random pipeline in this process and
consumes the generators restored. The hook therefore wraps the loop's data
iterator on resume, and puts the checkpoint's states back once the replayed
batches are drawn, just before the first batch that is trained on. With
``num_workers > 0`` the pipeline draws from the workers' generators, which
mmengine seeds by ``seed``, rank and worker id and the replay advances as
the interrupted run did; the restore then covers what the main process
drew. Either way the resumed run repeats the interrupted one. The replay
still loads the skipped batches (mmengine's cost, as before): a skip that
moved only the sampler would be cheaper, but would leave the workers'
generators at their start, and it needs torch's private iterator state.

Distributed runs save checkpoints on rank 0 only, so the hook gathers every
rank's states where all ranks are: after each epoch, and after an iteration
at which a ``CheckpointHook`` saves. A checkpoint saved elsewhere in a
distributed run (another hook's) has no states, and resuming from it
re-seeds with a warning.
"""
import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ..utils.mmengine_internals import relies_on


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


def _checkpoint_due(runner) -> bool:
    """Whether a ``CheckpointHook`` saves in this ``after_train_iter`` (the
    test of its ``after_train_iter``)."""
    return any(
        isinstance(hook, CheckpointHook) and not hook.by_epoch and (
            hook.every_n_train_iters(runner, hook.interval, hook.save_begin)
            or (hook.save_last and hook.is_last_train_iter(runner)))
        for hook in runner.hooks)


# the loop replays `iter` batches of its data iterator after a resume;
# Runner.resume calls the hooks' after_load_checkpoint before it restores
# the state (the hooks read runner._resume: set by the config or SafeRunner)
relies_on('mmengine.runner.IterBasedTrainLoop.run', 'f5de0b5cf6e25e3b')
relies_on('mmengine.runner.Runner.resume', '30cc2d3b4e1afabd')


class RestoreAfterReplay:
    """An iteration-based loop's data iterator that, once the ``replayed``
    batches are drawn, puts the generators back to ``state`` before the
    next batch is loaded (module doc)."""

    def __init__(self, iterator, replayed: int, state: dict):
        self.iterator = iterator
        self.replayed = replayed
        self.state = state

    def __iter__(self):
        return self

    def __next__(self):
        if self.replayed > 0:
            self.replayed -= 1
        elif self.state is not None:
            set_rng_state(self.state)
            self.state = None
        return next(self.iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the generators' states of every rank with each checkpoint and
    restore this rank's on resume (module doc)."""
    # after_train_epoch / _iter before CheckpointHook's (VERY_LOW): the
    # states are taken where the checkpoint is saved
    priority = 'LOW'

    def __init__(self):
        self._before_val = None
        self._saved_states = None  # every rank's, for the next checkpoint
        self._resumed_state = None  # this rank's, loaded on resume

    def before_val_epoch(self, runner) -> None:
        self._before_val = get_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._before_val is not None:
            set_rng_state(self._before_val)
            self._before_val = None

    def before_train_epoch(self, runner) -> None:
        self._saved_states = None
        loop = runner.train_loop
        if (self._resumed_state is not None
                and isinstance(loop, IterBasedTrainLoop) and loop.iter > 0):
            # the loop replays loop.iter batches next (module doc)
            loop.dataloader_iterator = RestoreAfterReplay(
                loop.dataloader_iterator, loop.iter, self._resumed_state)
        self._resumed_state = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._saved_states = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        # as after_train_epoch, for an iteration checkpoint
        if is_distributed() and _checkpoint_due(runner):
            self._saved_states = all_gather_object(get_rng_state())

    def after_train_epoch(self, runner) -> None:
        # runner.save_checkpoint runs on rank 0 only, so every rank's state
        # is gathered here, where all ranks are
        state = get_rng_state()
        self._saved_states = (all_gather_object(state)
                              if is_distributed() else [state])

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._saved_states is not None:  # gathered where it is saved
            checkpoint['rng_state'] = self._saved_states
        elif not is_distributed():  # e.g. an iteration-based checkpoint
            checkpoint['rng_state'] = [get_rng_state()]
        # else: saved by another hook in a distributed run; the other
        # ranks' states are out of reach here and a resume re-seeds (with a
        # warning)

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
        self._resumed_state = states[rank]
        runner.logger.info('RNGStateHook: restored the generator states of '
                           'the interrupted run.')
