"""Reading checkpoint files without running code from them.

The trust model of mmlt's checkpoints, in one place:

* A checkpoint is a pickle, and full unpickling runs any code the file
  names. mmlt therefore reads every checkpoint with
  ``torch.load(weights_only=True)``: tensors, containers, numbers and
  strings, plus the short allow-list below of what mmengine and mmlt
  checkpoints hold. A file that names anything else is refused before any
  of it runs: :class:`UnsafeCheckpointError`, naming the file, the refused
  object and the opt-in.
* Full unpickling only by an explicit opt-in for one command:
  ``--unsafe-load`` on ``tools/train.py``, ``tools/test.py``, the
  converters in ``tools/model_converters/`` and
  ``tools/analysis/plot_class_accuracy.py``, or the environment variable
  ``MMLT_UNSAFE_LOAD=1``. Even then the safe read is tried first, and a
  warning names the file that needed full unpickling. Opt in only for a
  file whose source you trust.
* Nothing is patched on ``import mmlt`` or an adapter import.
  ``mmlt.engine.setup_runtime`` calls :func:`use_safe_checkpoint_loader`,
  which makes mmengine's loader of local files (``load_from``,
  ``--resume``, ``tools/test.py CKPT``, ``init_cfg=dict(type='Pretrained',
  ...)``) use :func:`load_checkpoint_file`; the tools and
  ``DisAlignRunner`` call it, and the DeiT-LT teacher reads through
  :func:`read_checkpoint`: all are safe whoever built them. A script that
  runs mmengine's plain ``Runner`` itself and loads mmengine checkpoints
  calls ``setup_runtime()`` once: without it, torch >= 2.6 refuses them
  (``HistoryBuffer``), as it refuses any unknown object.
* Remote schemes (``https://``, ``s3://``, ...) keep mmengine's own loaders.

Every error names the file: an empty file, a truncated one, random bytes
and a refused object each get a :class:`CheckpointLoadError` (a
``RuntimeError``) that says which.
"""
import os
import os.path as osp
import pickle
import re
import warnings
from contextlib import contextmanager
from typing import Callable, Iterable, Optional

import numpy as np
import torch

from ..utils.mmengine_internals import relies_on

UNSAFE_LOAD_ENV = 'MMLT_UNSAFE_LOAD'
UNSAFE_LOAD_FLAG = '--unsafe-load'
UNSAFE_LOAD_HELP = (
    'unpickle checkpoints in full when the safe reader (weights_only) '
    'refuses them. Unpickling runs code from the file: only for files '
    f'whose source you trust. Same as {UNSAFE_LOAD_ENV}=1.')

_TRUE = ('1', 'true', 'yes', 'on')


class CheckpointLoadError(RuntimeError):
    """A checkpoint file could not be read; the message names the file."""


class UnsafeCheckpointError(CheckpointLoadError):
    """The file names an object outside the allow-list: it was refused
    without running anything from it."""


def unsafe_load_from_env() -> bool:
    """Whether ``MMLT_UNSAFE_LOAD`` opts this process in."""
    return os.environ.get(UNSAFE_LOAD_ENV, '').strip().lower() in _TRUE


# ----------------------------------------------------------- the allow-list
# What mmengine 0.10 and mmlt checkpoints hold besides tensors and plain
# data, measured on the checkpoints of every demo config (numpy 2.x):
#
# * mmengine.logging.history_buffer.HistoryBuffer: the message hub's
#   ``log_scalars`` (loss, lr, time, ...) that ``--resume`` restores.
# * builtins.getattr -> HistoryBuffer's statistics methods only: a
#   HistoryBuffer pickles its ``_statistics_methods`` dict (min, max,
#   current, mean), and pickle protocol 2 writes ``HistoryBuffer.mean`` as
#   ``getattr(HistoryBuffer, 'mean')``. The allow-list does not hold the
#   real ``getattr``, which would read any attribute of any allowed object,
#   but ``_history_buffer_statistic`` under its name: it returns those four
#   methods and refuses everything else.
# * numpy.ndarray, numpy._core.multiarray._reconstruct, numpy.dtype:
#   HistoryBuffer keeps its history as numpy arrays.
# * the dtype classes Float64DType and Int64DType (``numpy.dtypes``): the
#   arrays' dtypes (float64 values, int64 counts). They appear in no GLOBAL
#   (``numpy.dtype(...)`` creates them), so
#   ``torch.serialization.get_unsafe_globals_in_checkpoint`` misses them,
#   but torch's BUILD step needs their class allowed.
# * numpy._core.multiarray.scalar: numpy scalars, e.g. the message hub's
#   ``runtime_info['eta']`` (a numpy float64).
#
# numpy 1.x wrote ``numpy.core.multiarray`` for the same two functions;
# those names map to the same objects. mmlt's ``RNGStateHook`` saves plain
# lists, so the numpy RNG's uint32 array (UInt32DType) is not needed.
_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_statistic(owner, name):
    """``builtins.getattr`` as the safe reader sees it (see above)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    what = getattr(owner, '__qualname__', type(owner).__name__)
    raise pickle.UnpicklingError(
        f'builtins.getattr({what}, {name!r}) is not an allowed global: mmlt '
        "allows getattr for HistoryBuffer's statistics methods "
        f'{_STATISTICS} only.')


def _multiarray():
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


def checkpoint_safe_globals() -> list:
    """The allow-list (module comment), for
    ``torch.serialization.safe_globals``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = _multiarray()
    entries = [
        HistoryBuffer,
        (_history_buffer_statistic, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        type(np.dtype(np.float64)),
        type(np.dtype(np.int64)),
    ]
    for package in ('numpy._core', 'numpy.core'):
        entries += [
            (multiarray._reconstruct, f'{package}.multiarray._reconstruct'),
            (multiarray.scalar, f'{package}.multiarray.scalar'),
        ]
    return entries


@contextmanager
def _allowed(extra: Iterable = ()):
    """The allow-list (plus ``extra``) for the ``torch.load`` inside only;
    entries the user allowed process-wide stay allowed afterwards."""
    present = torch.serialization.get_safe_globals()
    entries = [g for g in checkpoint_safe_globals() + list(extra)
               if g not in present]
    with torch.serialization.safe_globals(entries):
        yield


# ------------------------------------------------------------------ reading
_REFUSAL = re.compile(
    r'Unsupported global|not an allowed global|is blocked|allowlisted|'
    r'unrecognized function|Unsupported class|must be imported to load')


def _unpickler_detail(error: BaseException) -> str:
    """The weights-only unpickler's own sentence, without torch's advice
    to retry with ``weights_only=False``."""
    text = str(error)
    if 'WeightsUnpickler error:' in text:
        text = text.split('WeightsUnpickler error:', 1)[1]
    elif text.startswith('Weights only load failed.'):
        # torch puts the unpickler's message after a blank line
        parts = [p for p in text.split('\n\n') if p.strip()]
        text = parts[1] if len(parts) > 1 else text
    text = text.split('\n\nCheck the documentation')[0]
    return ' '.join(text.split())


def _refused(error: BaseException) -> Optional[str]:
    """What the safe reader refused, or None when the file is unreadable
    rather than refused."""
    if not isinstance(error, pickle.UnpicklingError):
        return None
    detail = _unpickler_detail(error)
    if not _REFUSAL.search(detail):
        return None
    # torch's advice to allow-list the global is not for an unknown file
    detail = re.split(r'\s*Please use `torch\.serialization', detail)[0]
    unknown = re.search(r'GLOBAL (\S+) was not an allowed global', detail)
    if unknown:
        return f'the global {unknown.group(1)}, which is not allowed.'
    blocked = re.search(r'GLOBAL (\S+) whose module (\S+) is blocked',
                        detail)
    if blocked:
        return (f'the global {blocked.group(1)} (torch blocks the module '
                f'{blocked.group(2)}).')
    return detail


def _unreadable(filename: str, error: BaseException) -> str:
    size = osp.getsize(filename)
    if size == 0:
        return (f'checkpoint {filename} is empty (0 bytes): an interrupted '
                'save or copy leaves such a file; use another checkpoint.')
    detail = _unpickler_detail(error) or type(error).__name__
    return (f'checkpoint {filename} ({size} bytes) cannot be read: it is '
            'truncated, corrupt or not a file written by torch.save '
            f'({type(error).__name__}: {detail})')


def load_checkpoint_file(filename,
                         map_location=None,
                         allow_unsafe: bool = False,
                         extra_safe_globals: Iterable = ()):
    """Read a local checkpoint with ``torch.load(weights_only=True)`` and
    the allow-list (module doc).

    Args:
        filename: path of the file.
        map_location: as for ``torch.load``.
        allow_unsafe: unpickle in full when the safe read refuses the file
            (``--unsafe-load``); ``MMLT_UNSAFE_LOAD=1`` does the same.
        extra_safe_globals: more allowed objects for this one read (a
            converter's source format, e.g. ``argparse.Namespace``).

    Raises:
        FileNotFoundError: no such file.
        UnsafeCheckpointError: the file names an object outside the
            allow-list, and no opt-in; nothing from it ran.
        CheckpointLoadError: the file is empty, truncated or not a
            checkpoint. Both name the file.
    """
    filename = osp.expanduser(str(filename))
    if osp.isdir(filename):
        pointer = osp.join(filename, 'last_checkpoint')
        hint = (' (its last_checkpoint names the newest)'
                if osp.isfile(pointer) else '')
        raise IsADirectoryError(
            f'checkpoint {filename} is a directory; give the checkpoint file '
            f'in it, e.g. {osp.join(filename, "epoch_N.pth")}{hint}.')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        with _allowed(extra_safe_globals):
            return _checkpoint_dict(filename, torch.load(
                filename, map_location=map_location, weights_only=True))
    except CheckpointLoadError:
        raise
    except Exception as e:  # noqa: B902 - re-raised naming the file
        error = e
    refused = _refused(error)
    if refused is None:
        raise CheckpointLoadError(_unreadable(filename, error)) from error
    if not (allow_unsafe or unsafe_load_from_env()):
        raise UnsafeCheckpointError(
            f'checkpoint {filename} was refused: it holds an object that '
            "mmlt's safe checkpoint reader (torch.load(weights_only=True) "
            'with the allow-list of mmengine / mmlt checkpoints) does not '
            f'load: {refused} Nothing from the file was run. If you trust '
            f'the source of this file, load it in full: add '
            f'{UNSAFE_LOAD_FLAG} to the command (tools/train.py, '
            'tools/test.py, tools/model_converters/*, '
            f'tools/analysis/plot_class_accuracy.py) or set '
            f'{UNSAFE_LOAD_ENV}=1. Unpickling runs code from the file.'
        ) from None
    warnings.warn(
        f'mmlt: unpickling checkpoint {filename} in full ({UNSAFE_LOAD_FLAG} '
        f'/ {UNSAFE_LOAD_ENV}): the safe reader refused it ({refused}). '
        'This runs code from the file.', stacklevel=2)
    try:
        loaded = torch.load(
            filename, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: B902
        raise CheckpointLoadError(_unreadable(filename, e)) from e
    return _checkpoint_dict(filename, loaded)


def _checkpoint_dict(filename: str, loaded):
    """``loaded`` if it is a checkpoint (a dict: mmengine's, with
    'state_dict', or weights by name), else CheckpointLoadError naming the
    file and what it holds."""
    if not isinstance(loaded, dict):
        raise CheckpointLoadError(
            f'checkpoint {filename} holds a {type(loaded).__name__}, not a '
            'checkpoint (a dict with "state_dict", or weights by name); it '
            'was not written by an mmengine run or torch.save(model.'
            'state_dict()).')
    return loaded


# ------------------------------------------------- mmengine's CheckpointLoader
def _local_loader(allow_unsafe: bool) -> Callable:

    # mmengine logs ``loader.__name__[10:]`` ("local")
    def load_from_local(filename, map_location):
        return load_checkpoint_file(
            filename, map_location, allow_unsafe=allow_unsafe)

    load_from_local.mmlt_allow_unsafe = allow_unsafe
    return load_from_local


# mmlt's local loader is the '' scheme of CheckpointLoader._schemes, which
# this method reads; read_checkpoint calls _load_checkpoint for the rest
relies_on('mmengine.runner.checkpoint.CheckpointLoader._get_checkpoint_loader',
          '54915b42c39d840f')
relies_on('mmengine.runner.checkpoint._load_checkpoint', '8cf68c1873d03aea')


def use_safe_checkpoint_loader(allow_unsafe: bool = False) -> Callable:
    """Make mmengine's ``CheckpointLoader`` read local files with
    :func:`load_checkpoint_file` (``load_from``, ``--resume``,
    ``tools/test.py CKPT``, ``Pretrained`` init, ``load_checkpoint``).

    An explicit, process-wide choice: ``setup_runtime`` makes it (the
    tools pass ``--unsafe-load`` as ``allow_unsafe``); nothing does on
    import. Returns the loader it replaced.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    previous = CheckpointLoader._schemes.get('')
    CheckpointLoader.register_scheme(
        prefixes='', loader=_local_loader(bool(allow_unsafe)), force=True)
    return previous


@contextmanager
def safe_checkpoint_loader(allow_unsafe: bool = False):
    """:func:`use_safe_checkpoint_loader` for a ``with`` block (a test, a
    script's one run); mmengine's previous loader afterwards."""
    from mmengine.runner.checkpoint import CheckpointLoader
    previous = use_safe_checkpoint_loader(allow_unsafe)
    try:
        yield
    finally:
        CheckpointLoader.register_scheme('', previous, force=True)


def current_unsafe_choice() -> Optional[bool]:
    """The ``allow_unsafe`` of mmlt's loader where it is mmengine's local
    loader now; None where it is not."""
    from mmengine.runner.checkpoint import CheckpointLoader
    return getattr(CheckpointLoader._schemes.get(''), 'mmlt_allow_unsafe',
                   None)


def read_checkpoint(filename, map_location=None, logger=None):
    """mmengine's ``_load_checkpoint``, but local files always through
    :func:`load_checkpoint_file`: what the DeiT-LT teacher uses, so it is
    safe whether or not the tools registered the safe loader. The opt-in is
    that of the registered mmlt loader (``--unsafe-load``) or
    ``MMLT_UNSAFE_LOAD``."""
    from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint
    filename = str(filename)
    local = CheckpointLoader._schemes.get('')
    if CheckpointLoader._get_checkpoint_loader(filename) is not local:
        return _load_checkpoint(filename, map_location, logger)  # remote
    return load_checkpoint_file(
        filename, map_location,
        allow_unsafe=getattr(local, 'mmlt_allow_unsafe', False))
