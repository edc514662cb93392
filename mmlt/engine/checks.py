"""Checks of a config and a checkpoint against what they are used with.

No toolbox imports: ``tools/train.py`` and ``tools/test.py`` run them on any
config, and ``DisAlignRunner`` on its own.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Mapping

from torch import nn

from ..core.stage2_parts import is_calibration_key, is_stage2_key

# mmlt adapter -> the toolbox whose registries it registers into.
ADAPTER_TOOLBOXES = {
    'mmlt.detection': 'mmdet',
    'mmlt.segmentation': 'mmseg',
    'mmlt.classification': 'mmpretrain',
}
_TASKS = {'mmdet': 'detection', 'mmseg': 'segmentation',
          'mmpretrain': 'classification'}


def imported_adapters(cfg: Mapping) -> Dict[str, str]:
    """The mmlt adapters (or their submodules) a config's ``custom_imports``
    loads, each with the toolbox it registers into."""
    custom = cfg.get('custom_imports') or {}
    imports = custom.get('imports', []) if isinstance(custom, Mapping) else []
    if isinstance(imports, str):
        imports = [imports]
    found = {}
    for module in imports or []:
        for adapter, toolbox in ADAPTER_TOOLBOXES.items():
            if module == adapter or str(module).startswith(adapter + '.'):
                found[str(module)] = toolbox
    return found


def check_default_scope(cfg: Mapping) -> None:
    """Fail when a config imports mmlt adapters but none of them is for its
    ``default_scope``.

    An adapter registers its components (heads, losses, datasets, metrics,
    hooks) into one toolbox's registries; the runner builds every ``type``
    from the registries of ``default_scope``. With the wrong pair the run
    would fail later with "X is not in the <scope>::model registry", or
    build a stock component of the same name. A config may import adapters
    of other toolboxes as well (for ``type='mmpretrain.X'`` references), as
    long as one matches the scope.
    """
    adapters = imported_adapters(cfg)
    if not adapters:
        return
    scope = cfg.get('default_scope')
    if scope in adapters.values():
        return
    listing = ', '.join(f'{module} registers into {toolbox}'
                        for module, toolbox in adapters.items())
    toolboxes = sorted(set(adapters.values()))
    fixes = [f'default_scope = {t!r} if this is a {_TASKS[t]} config'
             for t in toolboxes]
    own = {t: a for a, t in ADAPTER_TOOLBOXES.items()}.get(scope)
    if own is not None:
        fixes.insert(0, f"custom_imports = dict(imports=['{own}'], "
                        f'allow_failed_imports=False) if this is a {scope} '
                        'config')
    head = (f"the config's default_scope is {scope!r} (it may come from a "
            '_base_ config)' if scope is not None else
            'the config has no default_scope')
    raise ValueError(
        f'{head}, but custom_imports loads mmlt adapters for another toolbox '
        f'only: {listing}. The runner builds every type from the registries '
        f"of {scope or 'mmengine'!r}, where those components are not "
        f'registered. Use ' + ', or '.join(fixes) + '.')


def check_checkpoint_matches_model(model: nn.Module, state_dict: Mapping,
                                   source: str = 'the checkpoint') -> List[str]:
    """Fail if ``state_dict`` lacks a weight of ``model`` (calibration keys
    excepted: they start at the identity; not cRT's re-trained classifier),
    has another shape for one, or holds a stage-2 part the model lacks (a
    stage-2 checkpoint under a stage-1 config). Returns the keys the model
    does not have."""
    own = model.state_dict()
    missing = [k for k in own
               if k not in state_dict and not is_calibration_key(k)]
    # the stage-2 keys left: cRT's classifier, which starts random
    retrained = [k for k in missing if is_stage2_key(k)]
    if retrained:
        raise ValueError(
            f'{source} lacks the re-trained classifier of this cRT model '
            f'({", ".join(retrained[:4])}): it is the stage-1 checkpoint, '
            'and cRT\'s classifier would stay at its random init. Test the '
            'checkpoint that cRT\'s stage 2 (tools/train.py) wrote.')
    if missing:
        raise ValueError(
            f'{source} lacks {len(missing)} of the {len(own)} weights of the '
            f'model, e.g. {", ".join(missing[:5])}: it is the checkpoint of '
            'another model, or of a part of it. Loading it would leave those '
            'weights at their random init. Pass the checkpoint trained with '
            'this config.')
    check_shapes(own, state_dict, source)
    unexpected = [k for k in state_dict if k not in own]
    stage2 = [k for k in unexpected if is_stage2_key(k)]
    if stage2:
        calibration = [k for k in stage2 if is_calibration_key(k)]
        held = (f'is a DisAlign stage-2 checkpoint: it holds a calibration '
                f'({", ".join(calibration[:4])})' if calibration else
                f'is a cRT stage-2 checkpoint: it holds a re-trained '
                f'classifier ({", ".join(stage2[:4])})')
        raise ValueError(
            f'{source} {held} that this model does not have, so its stage-2 '
            'output would be lost and the numbers would be those of stage '
            '1. Evaluate it with the stage-2 config it was trained with.')
    return unexpected


def check_finite_weights(state_dict: Mapping,
                         source: str = 'the checkpoint') -> None:
    """Fail if a floating-point weight of ``state_dict`` holds NaN or inf:
    the model's outputs would be meaningless (every prediction one class)
    and the metrics would look like a bad model's, not a broken file's."""
    import torch
    bad = [k for k, v in state_dict.items()
           if isinstance(v, torch.Tensor) and v.is_floating_point()
           and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(
            f'{source} holds NaN or inf in {len(bad)} weights, e.g. '
            f'{", ".join(bad[:5])}: it was saved by a run that diverged. '
            'Test a checkpoint of that run from before it diverged, or '
            'train again with a lower learning rate (FiniteLossHook stops a '
            'run at its first non-finite loss).')


def check_shapes(own: Mapping, state_dict: Mapping, source: str) -> None:
    """Fail when a weight of ``state_dict`` has another shape than the
    model's (``own``: the model's state dict)."""
    mismatched = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model '
        f'{tuple(v.shape)}' for k, v in own.items()
        if k in state_dict and hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if mismatched:
        raise ValueError(
            f'{source} is of another architecture or class count: '
            f'{len(mismatched)} shapes differ, e.g. '
            f'{"; ".join(mismatched[:5])}.')


def checkpoints_in(work_dir: str) -> List[str]:
    """The checkpoint files (and the ``last_checkpoint`` pointer) that a run
    left in ``work_dir``."""
    if not osp.isdir(work_dir):
        return []
    return sorted(f for f in os.listdir(work_dir)
                  if f.endswith('.pth') or f == 'last_checkpoint')


def check_work_dir_is_free(work_dir: str, overwrite: bool = False) -> None:
    """A new run into a work dir holding another run's checkpoints would
    overwrite ``epoch_1.pth`` ... and leave the old run's later ones beside
    its own, and ``--resume`` would later mix them. Refuse it, or with
    ``overwrite`` delete them first (rank 0 only)."""
    found = checkpoints_in(work_dir)
    if not found:
        return
    if not overwrite:
        raise FileExistsError(
            f'{work_dir} already holds the checkpoints of a run '
            f'({", ".join(found[:4])}{" ..." if len(found) > 4 else ""}); a '
            'new run there would overwrite some and mix the two runs. '
            'Continue that run with --resume, choose another --work-dir, or '
            'pass --overwrite to delete them and start anew.')
    if int(os.environ.get('RANK', 0)) == 0:
        for name in found:
            try:
                os.remove(osp.join(work_dir, name))
            except FileNotFoundError:
                pass
        print(f'--overwrite: deleted {len(found)} checkpoint files of the '
              f'previous run in {work_dir}.')


# what the checkpoint's optimizer and scheduler state decide on --resume
RESUMED_FROM_CHECKPOINT = ('optim_wrapper', 'param_scheduler')


def _diff(old, new, prefix: str) -> List[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += _diff(old.get(key), new.get(key), f'{prefix}.{key}')
        return out
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)) \
            and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += _diff(a, b, f'{prefix}[{i}]')
        return out
    return [] if old == new else [f'{prefix}: {old!r} -> {new!r}']


def _plain(value):
    return value.to_dict() if hasattr(value, 'to_dict') else value


#: the key of mmlt's settings record in a checkpoint's ``meta``
SETTINGS_KEY = 'mmlt_resumed_settings'


def resumed_settings(cfg) -> str:
    """The settings of ``RESUMED_FROM_CHECKPOINT`` of ``cfg`` as JSON text:
    what ``ResumedSettingsHook`` stores in each checkpoint's meta and
    compares on ``--resume``. Data only (values JSON cannot hold are
    written as their ``repr``), so reading it back runs nothing; mmengine's
    own ``meta['cfg']`` is config source text, which only executing it
    would read, and mmlt never does."""
    return json.dumps({key: _plain(cfg.get(key))
                       for key in RESUMED_FROM_CHECKPOINT},
                      sort_keys=True, default=repr)


def resumed_settings_changed(saved_settings: str, cfg) -> List[str]:
    """Settings of ``RESUMED_FROM_CHECKPOINT`` that differ between the
    interrupted run (``saved_settings``: ``resumed_settings`` of its
    config, read from the checkpoint) and ``cfg``, as ``'key: old ->
    new'``. Unreadable saved settings compare as nothing changed."""
    try:
        saved = json.loads(saved_settings)
    except (TypeError, ValueError, RecursionError):
        return []
    if not isinstance(saved, dict):
        return []
    current = json.loads(resumed_settings(cfg))
    changes = []
    for key in RESUMED_FROM_CHECKPOINT:
        changes += _diff(saved.get(key), current.get(key), key)
    return changes
