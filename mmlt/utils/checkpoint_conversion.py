"""What the scripts in ``tools/model_converters/`` share (plain torch).

Each converter renames a public checkpoint's keys with a list of regex
rules; a key that matches no rule and no ``ignore`` pattern is an error, and
so is a required key the checkpoint lacks. The result is an mmengine
checkpoint, ``{'state_dict': ..., 'meta': ...}``, for ``tools/test.py``.
Sources are read safely (``weights_only``; ``--unsafe-load`` to opt in).
"""
import argparse
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, Union

import torch

Rules = Sequence[Tuple[str, Union[str, Callable]]]


class ConversionError(ValueError):
    """The checkpoint is not of the layout the converter expects."""


def _names(keys: Iterable[str], limit: int = 12) -> str:
    keys = sorted(keys)
    more = f' ... and {len(keys) - limit} more' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


def _group(key: str, like: str = None) -> str:
    """``blocks.3.mlp.fc1.weight`` -> ``blocks.*.mlp.fc1.weight``; with
    ``like`` (the source key), only the leading indices equal to its own."""
    parts = key.split('.')
    nums = [p for p in (like or key).split('.') if p.isdigit()]
    for i, part in enumerate(parts):
        if nums and part == nums[0]:
            parts[i] = '*'
            nums.pop(0)
        elif part.isdigit() and like is not None:
            break
    return '.'.join(parts)


def load_state_dict(path: str, keys: Sequence[str] = ('state_dict', 'model'),
                    allow_unsafe: bool = False,
                    extra_safe_globals: Iterable = ()
                    ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The state dict in ``path`` (under the first of ``keys`` it has, or
    the bare dict) and the whole checkpoint.

    Read with ``torch.load(weights_only=True)`` and mmlt's allow-list (plus
    ``extra_safe_globals``, what the source format holds): a file that
    names anything else is refused before any of it runs, unless
    ``allow_unsafe`` (the converters' ``--unsafe-load``) or
    ``MMLT_UNSAFE_LOAD=1``; see ``mmlt.engine.checkpoint_io``."""
    from mmlt.engine.checkpoint_io import load_checkpoint_file
    ckpt = load_checkpoint_file(path, map_location='cpu',
                                allow_unsafe=allow_unsafe,
                                extra_safe_globals=extra_safe_globals)
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{path}: expected a dict, got {type(ckpt)}.')
    for key in keys:
        if isinstance(ckpt.get(key), dict):
            return dict(ckpt[key]), ckpt
    if ckpt and all(torch.is_tensor(v) for v in ckpt.values()):
        return dict(ckpt), {}
    raise ConversionError(f'{path}: no state dict under {list(keys)}; its '
                          f'top-level keys are {_names(map(str, ckpt))}.')


def converter_parser(doc: str, src_help: str) -> argparse.ArgumentParser:
    """A converter's command line: ``src`` (described by ``src_help``),
    ``dst`` and ``--unsafe-load`` (see :func:`load_state_dict`); the
    description is the first line of the converter's ``doc``."""
    from mmlt.engine.checkpoint_io import UNSAFE_LOAD_FLAG, UNSAFE_LOAD_HELP
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output mmengine checkpoint')
    parser.add_argument(UNSAFE_LOAD_FLAG, action='store_true',
                        help=UNSAFE_LOAD_HELP)
    return parser


def strip_prefix(state: dict, prefix: str = 'module.') -> dict:
    """Drop a DataParallel / DDP ``prefix`` that every key carries."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return state


def rename(state: dict, rules: Rules, ignore: Sequence[str] = (),
           what: str = 'checkpoint') -> Tuple[dict, List[str], List[str]]:
    """Apply the first matching ``(regex, template)`` rule to each key
    (``template``: an ``re`` expansion, or a function of the match).

    Returns the renamed dict, the ignored keys and ``'src -> dst'`` lines
    (numeric key components as ``*``) for the log. Raises on keys no rule or ignore
    pattern matches, naming them.
    """
    out, ignored, unexpected, mapped = OrderedDict(), [], [], {}
    for key, value in state.items():
        for pattern, template in rules:
            match = re.fullmatch(pattern, key)
            if match:
                new = (template(match) if callable(template) else
                       match.expand(template))
                if new in out:
                    raise ConversionError(f'{what}: two keys map to {new}.')
                out[new] = value
                line = f'{_group(key)} -> {_group(new, key)}'
                mapped[line] = mapped.get(line, 0) + 1
                break
        else:
            if any(re.fullmatch(p, key) for p in ignore):
                ignored.append(key)
            else:
                unexpected.append(key)
    if unexpected:
        raise ConversionError(
            f'{what}: {len(unexpected)} unexpected keys (not of the layout '
            f'this converter knows): {_names(unexpected)}')
    lines = [f'{line}  ({n})' for line, n in mapped.items()]
    return out, ignored, lines


def require(state: dict, keys: Iterable[str], what: str = 'checkpoint'):
    """Raise naming every key of ``keys`` that ``state`` lacks."""
    missing = [k for k in keys if k not in state]
    if missing:
        raise ConversionError(
            f'{what}: {len(missing)} missing keys: {_names(missing)}')


def blocks(state: dict, pattern: str) -> List[str]:
    """The distinct prefixes (group 1 of ``pattern``) among the keys."""
    found = {m.group(1) for m in map(lambda k: re.match(pattern, k), state)
             if m}
    return sorted(found, key=lambda s: [int(t) if t.isdigit() else t
                                        for t in re.split(r'(\d+)', s)])


def bn_keys(prefix: str) -> List[str]:
    return [f'{prefix}.{n}' for n in
            ('weight', 'bias', 'running_mean', 'running_var')]


def save_checkpoint(state: dict, dst: str, meta: dict) -> None:
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    torch.save({'state_dict': OrderedDict(state), 'meta': meta}, dst)


def log(title: str, lines: Sequence[str], ignored: Sequence[str] = (),
        notes: Sequence[str] = ()) -> None:
    print(title)
    for line in lines:
        print('  ' + line)
    if ignored:
        print(f'  dropped {len(ignored)} keys not used at inference: '
              f'{_names({_group(k) for k in ignored})}')
    for note in notes:
        print('  NOTE: ' + note)
