"""The checkpoint a stage-2 run loads: a stage-1 checkpoint of the same
model (every weight but the stage-2 parts, with its shape) to train, the
stage-2 run's own to test."""
from typing import Dict, List, Tuple

from mmengine.hooks import Hook
from torch import nn

from ..core.stage2_parts import is_stage2_key, stage2_parts
from ..engine.checks import check_shapes
from ..engine.hooks import loaded_checkpoint
from ..utils.mmengine_internals import relies_on


def check_stage1_state_dict(
        model: nn.Module, state_dict: Dict,
        source: str = 'the checkpoint') -> Tuple[List[str], List[str]]:
    """Compare a stage-1 state dict with a stage-2 model.

    Returns ``(new_keys, unexpected_keys)``: the model's keys absent from the
    checkpoint (all of them calibration keys) and the checkpoint's keys the
    model does not have. Raises ``ValueError`` if a non-calibration key is
    missing (the checkpoint is not of this model, or lacks its classifier)
    or a shape differs.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    new_keys = [k for k in missing if is_stage2_key(k)]
    absent = [k for k in missing if not is_stage2_key(k)]
    if absent:
        classifier = [k for k in absent if k.rsplit('.', 1)[0] in
                      {n.rsplit('.', 1)[0] for n in _calibrated_classifiers(model)}]
        hint = (f' It has no classifier weights ({", ".join(classifier)}): '
                'DisAlign keeps the stage-1 classifier and only learns its '
                'calibration.' if classifier else '')
        raise ValueError(
            f'{source} lacks {len(absent)} weights the DisAlign stage-2 model '
            f'needs, e.g. {", ".join(absent[:5])}.{hint} Load the checkpoint '
            'of the same model trained in stage 1 (load_from=...).')
    check_shapes(own, state_dict, source)
    unexpected = [k for k in state_dict if k not in own]
    return new_keys, unexpected


def _calibrated_classifiers(model: nn.Module) -> List[str]:
    """Parameter names of the classifiers that carry a stage-2 part."""
    names = []
    modules = dict(model.named_modules())
    for name, _ in stage2_parts(model):
        owner = name.rsplit('.', 1)[0] if '.' in name else ''
        names += [f'{owner}.{p}'.lstrip('.') for p, _ in
                  modules[owner].named_parameters(recurse=False)]
    return names


# the hook edits the checkpoint dict that this method then loads
relies_on('mmengine.runner.Runner.load_checkpoint', 'bebf88cd7097d2f1')


class Stage1CheckpointHook(Hook):
    """Check the checkpoint a stage-2 run loads before mmengine loads it:
    every weight but the stage-2 parts present with its shape
    (:func:`check_stage1_state_dict`).

    Training (``load_from``, or the interrupted run's on ``--resume``): log
    the stage-2 keys that keep their init and the checkpoint's keys the
    model does not use; warn when ``load_from`` already holds a calibration.
    Testing (``training=False``): the checkpoint must hold the stage-2 parts
    that learn (a calibration, cRT's classifier, LWS's scales); a stage-1
    checkpoint there would report stage 1 with an untrained calibration.
    ``DisAlignRunner`` registers it (for val / test,
    ``CheckpointMatchesModelHook`` too).
    """
    priority = 'VERY_HIGH'

    def __init__(self, training: bool = True) -> None:
        self.training = training

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state, model, filename = loaded_checkpoint(runner, checkpoint)
        new_keys, unexpected = check_stage1_state_dict(
            model, state, f'checkpoint {filename}')
        if not self.training:
            if new_keys:
                raise ValueError(
                    f'checkpoint {filename} has none of the stage-2 weights '
                    f'of this model ({len(new_keys)} keys, e.g. '
                    f'{", ".join(new_keys[:3])}): it is a stage-1 '
                    'checkpoint, and testing it with this stage-2 config '
                    'would report stage 1\'s numbers with an untrained '
                    'stage 2. Test the checkpoint the stage-2 run saved '
                    '(its work dir\'s last_checkpoint), or this one with '
                    'its stage-1 config.')
            return
        calibrated = [k for k in state if is_stage2_key(k)]
        if calibrated and not getattr(runner, '_resume', False):
            # a user may mean it (calibrating further), so a warning
            runner.logger.warning(
                f'DisAlign stage 2: load_from={filename} already holds a '
                f'calibration ({len(calibrated)} keys, e.g. {calibrated[0]})'
                ': it is a stage-2 checkpoint, so this run starts from its '
                'calibration, not from the identity. To calibrate from '
                'scratch, set load_from to the stage-1 checkpoint; to '
                'continue an interrupted run, use --resume.')
        if new_keys:
            runner.logger.info(
                f'DisAlign stage 2: loaded {filename}; {len(new_keys)} new '
                f'(calibration) keys keep their initial values: '
                f'{", ".join(new_keys)}')
        if unexpected:
            runner.logger.warning(
                f'{filename} has {len(unexpected)} keys the model does not '
                f'use (ignored): {", ".join(unexpected[:10])}')
        # Said above, so mmengine need not print its own "do not match
        # exactly" list: the new keys are loaded as the values they keep,
        # and the unused ones are left out.
        loaded = checkpoint.get('state_dict', checkpoint)
        own = model.state_dict()
        for key in new_keys:
            loaded[key] = own[key]
        for key in unexpected:
            loaded.pop(key, None)
            loaded.pop(f'module.{key}', None)
