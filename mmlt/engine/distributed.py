"""Distributed training on machines without a GPU, and a check that the
ranks agree.

mmengine's launchers assume CUDA: ``init_dist`` calls
``torch.cuda.set_device`` and the default DDP wrapper passes
``device_ids=[LOCAL_RANK]``, both of which fail on a CPU. ``setup_distributed``
(called by ``SafeRunner.from_cfg``, so for every run of the tools, before
mmengine's runner sets up its environment) starts the process group on gloo itself when there is no GPU, so
mmengine's runner finds it initialised and skips ``init_dist``, and picks
``AnyDeviceDDP``, which drops ``device_ids`` for a model on the CPU. With a
GPU nothing changes.

``setup_distributed`` also makes a broken run end instead of hanging, with
a GPU or without: a collective that waits longer than
``env_cfg.dist_cfg.timeout`` seconds (default ``DEFAULT_DIST_TIMEOUT``, 10
minutes, instead of torch's 30 for gloo) fails on the waiting ranks, and a
process started by torchrun dies with it (``stop_with_launcher``) instead of
training on alone when torchrun is killed.

``RankConsistencyHook`` compares, across ranks, what must be identical in
mmlt's methods: the trainable parameters (DisAlign's calibration), the frozen
ones, the DeiT-LT teacher, the DRW switch and weights, and the G-RW class
weights. It writes ``rank_consistency.json`` in the work dir and fails
loudly on a mismatch.
"""
import datetime
import hashlib
import json
import logging
import os
import os.path as osp
from contextlib import contextmanager
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import all_gather_object, get_dist_info, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import (MMDistributedDataParallel, is_model_wrapper,
                            revert_sync_batchnorm)
from mmengine.registry import HOOKS, MODEL_WRAPPERS

from ..utils.launcher import stop_with_launcher


@MODEL_WRAPPERS.register_module()
class AnyDeviceDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also wraps a CPU model: mmengine
    passes ``device_ids=[LOCAL_RANK]``, which DDP only accepts for a model
    on a GPU, and torch's ``SyncBatchNorm`` runs on GPUs only, so on a CPU
    its layers become ``BatchNorm`` (mmengine's ``revert_sync_batchnorm``,
    what a non-distributed run does): each process then normalises its own
    batch. A DisAlign stage 2 keeps its norm layers frozen in eval mode, so
    it computes the same either way."""

    def __init__(self, module, device_ids=None, **kwargs):
        device = next(module.parameters()).device
        if device.type == 'cpu':
            device_ids = None
            if any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in module.modules()):
                module = revert_sync_batchnorm(module)
                print_log(
                    'No GPU: the SyncBatchNorm layers are BatchNorm in this '
                    'run (torch\'s SyncBatchNorm needs GPUs); each process '
                    'normalises its own batch.', 'current')
        super().__init__(module=module, device_ids=device_ids, **kwargs)


# Seconds a rank waits in a collective (all-reduce, barrier...) for the
# others before failing. It bounds how long one rank may work alone while
# the others wait, e.g. rank 0 computing the metrics of a large validation
# set or writing a checkpoint; raise it for such a run with
# --cfg-options env_cfg.dist_cfg.timeout=SECONDS. 10 minutes: torch's
# default for NCCL; torch's 30 for gloo meant half an hour of silence.
DEFAULT_DIST_TIMEOUT = 600


def setup_distributed(cfg, launcher: str) -> None:
    """Prepare a distributed run (``--launcher`` other than ``none``):
    ``env_cfg.dist_cfg.timeout`` defaults to ``DEFAULT_DIST_TIMEOUT`` and
    torchrun's workers die with it (``stop_with_launcher``). On a machine
    without a GPU, start the process group of a ``--launcher pytorch`` run
    (torchrun) on gloo and use ``AnyDeviceDDP``.

    Other launchers on a CPU are refused with the way out: mmengine's slurm
    and mpi initialisation selects a CUDA device.
    """
    if launcher == 'none':
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg.setdefault('timeout', DEFAULT_DIST_TIMEOUT)
    stop_with_launcher()
    if torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs a GPU (mmengine selects a CUDA '
            'device for it). On a CPU, start the processes with torchrun: '
            'tools/dist_train.sh CONFIG NPROC (--launcher pytorch).')
    for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if var not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch: ${var} is not set; start the script '
                'with torchrun (tools/dist_train.sh CONFIG NPROC).')
    if dist_cfg.get('backend', 'nccl') != 'gloo':
        print_log(
            f'No GPU: distributed backend {dist_cfg.get("backend", "nccl")} '
            '-> gloo.', 'current')
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        if kwargs.get('timeout') is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        else:  # None: torch's default
            kwargs.pop('timeout', None)
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **kwargs)
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        cfg.model_wrapper_cfg = dict(
            type='AnyDeviceDDP',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif wrapper.get('type', 'MMDistributedDataParallel') == \
            'MMDistributedDataParallel':
        wrapper['type'] = 'AnyDeviceDDP'


class DistributedTimeoutError(RuntimeError):
    """A collective waited longer than ``env_cfg.dist_cfg.timeout``."""


@contextmanager
def explain_collective_timeouts(cfg):
    """Turn the backend's report of a collective that timed out (gloo:
    ``Timed out waiting 600000ms for recv operation``) into a
    ``DistributedTimeoutError`` that says what happened and what to do."""
    try:
        yield
    except RuntimeError as error:
        if not (torch_dist.is_available() and torch_dist.is_initialized()
                and 'timed out' in str(error).lower()):
            raise
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        rank, world_size = get_dist_info()
        message = (
            f'Rank {rank} of {world_size} waited more than '
            f'{timeout} s (env_cfg.dist_cfg.timeout) for the other ranks in '
            'a collective operation: another rank is stuck or has died; '
            "torchrun's summary below names the ranks that failed. If a "
            'rank legitimately works alone that long (e.g. rank 0 '
            'evaluating a large validation set), raise the timeout: '
            '--cfg-options env_cfg.dist_cfg.timeout=SECONDS. Backend: '
            f'{error}')
        print_log(message, 'current', level=logging.ERROR)
        raise DistributedTimeoutError(message) from error


def teardown_distributed() -> None:
    """Wait for every rank, then destroy the process group (if any)."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def _digest(tensors) -> Optional[str]:
    """sha1 of the bytes of (name, tensor) pairs; None when empty."""
    sha, n = hashlib.sha1(), 0
    for name, tensor in tensors:
        sha.update(name.encode())
        if tensor is not None:
            t = torch.as_tensor(tensor).detach().cpu().contiguous()
            sha.update(str(t.dtype).encode())
            sha.update(t.view(-1).view(torch.uint8).numpy().tobytes()
                       if t.numel() else b'')
        n += 1
    return sha.hexdigest() if n else None


def model_digests(model: torch.nn.Module) -> dict:
    """What must be identical on every rank, hashed by group."""
    if is_model_wrapper(model):
        model = model.module
    params = list(model.named_parameters())
    modules = list(model.named_modules())
    teacher = getattr(model, 'teacher', None)
    return dict(
        trainable=_digest((n, p) for n, p in params if p.requires_grad),
        frozen=_digest((n, p) for n, p in params if not p.requires_grad),
        teacher=None if teacher is None else _digest(
            teacher.state_dict().items()),
        drw=_digest((f'{n}.drw={bool(m.drw)}',
                     getattr(m, 'drw_weights', None))
                    for n, m in modules if hasattr(m, 'drw')),
        # readable too: which modules have DRW switched on
        drw_on=[n for n, m in modules if getattr(m, 'drw', False)],
        class_weights=_digest((n, m.class_weights) for n, m in modules
                              if isinstance(
                                  getattr(m, 'class_weights', None),
                                  torch.Tensor)))


@HOOKS.register_module()
class RankConsistencyHook(Hook):
    """Check that every rank holds the same trainable and frozen parameters,
    DeiT-LT teacher, DRW state and G-RW weights (``model_digests``).

    Args:
        interval: also check every ``interval`` training iterations
            (0: only at the end of each epoch and of training).
    """
    priority = 'LOW'

    def __init__(self, interval: int = 0):
        self.interval = interval
        self.history = []

    def check(self, runner, when: str) -> None:
        digests = model_digests(runner.model)
        ranks = all_gather_object(digests) if is_distributed() else [digests]
        mismatched = sorted(k for k in digests
                            if any(r[k] != ranks[0][k] for r in ranks))
        rank, world_size = get_dist_info()
        self.history.append(
            dict(when=when, world_size=world_size, ranks=ranks,
                 mismatched=mismatched))
        if rank == 0:
            with open(osp.join(runner.work_dir, 'rank_consistency.json'),
                      'w') as f:
                json.dump(self.history, f, indent=1)
        if mismatched:
            raise RuntimeError(
                f'RankConsistencyHook ({when}): the ranks disagree on '
                f'{mismatched}; digests per rank: {ranks}.')
        runner.logger.info(
            f'RankConsistencyHook ({when}): {world_size} rank(s) agree.')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self.check(runner, f'iter {runner.iter + 1}')

    def after_train_epoch(self, runner) -> None:
        self.check(runner, f'epoch {runner.epoch + 1}')

    def after_train(self, runner) -> None:
        self.check(runner, 'end of training')
