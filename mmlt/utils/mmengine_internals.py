"""The mmengine internals mmlt replaces or depends on, each pinned to its
source in the mmengine mmlt was written for.

Every mmlt module that overrides a private mmengine method, or relies on
how one works, says so beside the override with ``relies_on(target,
digest)``: the dotted path of the mmengine object and the first 16 hex
digits of the SHA-256 of its source in mmengine ``WRITTEN_FOR``.
``changed_internals()`` lists those whose source differs in the installed
mmengine; ``setup_runtime`` warns once when there are any, and
``tests/test_engine/test_engine_runner.py`` fails on them, so an
mmengine upgrade that changes a method mmlt replaces is seen at once
rather than as a subtle misbehaviour.
"""
import hashlib
import importlib
import inspect
import warnings
from typing import Dict, List

#: the mmengine release whose sources the digests below were taken from
WRITTEN_FOR = '0.10.7'

_PINNED: Dict[str, str] = {}
_checked = set()  # the targets warn_on_changed_internals has looked at


def relies_on(target: str, digest: str) -> None:
    """Record that mmlt overrides or depends on the mmengine object at the
    dotted path ``target`` as its source had ``digest`` in ``WRITTEN_FOR``.
    """
    _PINNED[target] = digest


def source_digest(target: str) -> str:
    """The digest ``relies_on`` pins: SHA-256 of the object's source, first
    16 hex digits."""
    return hashlib.sha256(
        inspect.getsource(_resolve(target)).encode()).hexdigest()[:16]


def _resolve(target: str):
    parts = target.split('.')
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(target)


def pinned_internals() -> Dict[str, str]:
    """Every ``target -> digest`` recorded by the modules imported so far."""
    return dict(_PINNED)


def changed_internals(targets=None) -> List[str]:
    """The pinned internals (of ``targets``, default all) whose installed
    source differs (or is gone), each as ``'target: why'``."""
    changed = []
    for target, digest in sorted(_PINNED.items()):
        if targets is not None and target not in targets:
            continue
        try:
            now = source_digest(target)
        except (ImportError, AttributeError, OSError, TypeError) as e:
            changed.append(f'{target}: not found ({type(e).__name__})')
            continue
        if now != digest:
            changed.append(f'{target}: source changed')
    return changed


def warn_on_changed_internals() -> None:
    """Warn when the installed mmengine changed an internal mmlt replaces
    or depends on; each pin is looked at once per process, so a later call
    checks only the pins of the modules imported since (a config's
    ``custom_imports``)."""
    new = set(_PINNED) - _checked
    if not new:
        return
    _checked.update(new)
    changed = changed_internals(new)
    if changed:
        import mmengine
        warnings.warn(
            f'mmlt was written for mmengine {WRITTEN_FOR}; mmengine '
            f'{mmengine.__version__} changed {len(changed)} of the internals '
            'mmlt overrides or depends on (' + '; '.join(changed) + '). '
            'Install mmengine==' + WRITTEN_FOR + ' (requirements/), or '
            'check those overrides (mmlt.utils.mmengine_internals).',
            stacklevel=2)
