"""The stage-2 parts of a model and the freezing of everything else.

Every stage-2 classifier is a stock classifier with its stock parameter
names plus one child that stage 2 adds (``STAGE2_PARTS``): ``calibration``
(DisAlign's adaptive calibration, LWS's scales, the parameter-free logit
adjustment and tau-normalisation) or ``retrained`` (cRT's new classifier).
Stage 2 learns those children only, with the normalisation layers kept in
eval mode.
"""
import types
from typing import List, Tuple

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from .calibration import AdaptiveCalibration
from .class_counts import UsesClassCounts

# The children a stage-2 classifier adds to the stock one: the only
# parameters stage 2 learns, and the only keys a stage-1 checkpoint lacks.
STAGE2_PARTS = ('calibration', 'retrained')


def is_stage2_key(key: str) -> bool:
    """Whether a parameter / state-dict key belongs to a stage-2 part."""
    return any(part in STAGE2_PARTS for part in key.split('.')[:-1])


def stage2_parts(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """``(name, module)`` of every stage-2 part of ``model``."""
    return [(name, module) for name, module in model.named_modules()
            if name.rsplit('.', 1)[-1] in STAGE2_PARTS
            and not is_stage2_key(name)]


def freeze_except_stage2(model: nn.Module) -> List[str]:
    """Set ``requires_grad=False`` on every parameter outside the stage-2
    parts; return the names of the trainable ones."""
    if not stage2_parts(model):
        raise ValueError(
            'stage 2 found no calibration (nor another stage-2 classifier) in '
            'the model: replace the '
            'classifier with one of mmlt\'s (DisAlign: the decode head type '
            "'DisAlignFCNHead', cls_predictor_cfg=dict(type='DisAlignLinear')"
            ", or the head type 'DisAlignLinearClsHead'; the baselines: "
            "'LogitAdjusted*', 'TauNorm*', 'LWS*', 'Retrained*'; see "
            'configs/demo/).')
    trainable = []
    for name, param in model.named_parameters():
        param.requires_grad = is_stage2_key(name)
        if param.requires_grad:
            trainable.append(name)
    return trainable


def is_calibration_key(key: str) -> bool:
    """Whether a key belongs to a ``calibration`` part: those start at the
    identity (the stage-1 classifier's output), so a stage-1 checkpoint may
    be tested under a stage-2 config; cRT's ``retrained`` classifier starts
    random and may not."""
    return 'calibration' in key.split('.')[:-1]


# the name of the DisAlign-only days, kept for users' scripts
freeze_except_calibration = freeze_except_stage2


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, (_BatchNorm, _InstanceNorm))


def _train_keeping_norm_eval(self, mode: bool = True):
    nn.Module.train(self, mode)
    for module in self.modules():
        if _is_norm(module):
            module.eval()
    return self


def keep_norm_layers_in_eval(model: nn.Module) -> int:
    """Make ``model.train()`` leave BN / IN layers in eval mode: they
    normalise with, and never update, the stage-1 running statistics.

    ``train`` is replaced on ``model`` itself, not on the norm layers, so it
    holds when the runner swaps layers afterwards (mmengine reverts SyncBN
    to BN in a single process). Returns how many norm layers there are.
    """
    model.train = types.MethodType(_train_keeping_norm_eval, model)
    model.train(model.training)
    return sum(1 for m in model.modules() if _is_norm(m))


def drop_pretrained_init(model: nn.Module) -> List[str]:
    """Remove the ``Pretrained`` entries from the ``init_cfg`` of every
    module of ``model``; return ``'module: checkpoint'`` for each.

    A stage-2 (or post-hoc) model takes every weight from its stage-1
    checkpoint (``load_from``), but mmengine runs ``init_weights()`` first,
    which would download the ImageNet weights a stock stage-1 config names
    (mmseg's ``pretrained='open-mmlab://resnet50_v1c'``, a backbone's
    ``init_cfg=dict(type='Pretrained', checkpoint=URL)``): offline that
    fails, online it is a wasted download. The other init entries stay (the
    calibration's own initialisation runs after them).
    """
    dropped = []
    for name, module in model.named_modules():
        init_cfg = getattr(module, 'init_cfg', None)
        entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        pretrained = [e for e in entries
                      if isinstance(e, dict) and e.get('type') == 'Pretrained']
        if not pretrained:
            continue
        kept = [e for e in entries if e not in pretrained]
        module.init_cfg = (kept if isinstance(init_cfg, list) else None) or None
        dropped += [f'{name or "model"}: {e.get("checkpoint")}'
                    for e in pretrained]
    return dropped


def start_from_loss_prior(model: nn.Module) -> List[str]:
    """Resolve every calibration of ``model`` that waits for its prior
    (``pending_start_tau``: mmdet's classifiers, built without their loss)
    with the class counts of the G-RW loss of the module that holds it
    (mmdet's bbox head: ``loss_cls``); return the calibrations' names.
    Fails naming the calibration when no such loss is found."""
    started = []
    for name, module in model.named_modules():
        if not (isinstance(module, AdaptiveCalibration)
                and module.pending_start_tau is not None):
            continue
        owner = None
        parts = name.split('.')
        for depth in range(len(parts) - 1, -1, -1):  # nearest first
            holder = model.get_submodule('.'.join(parts[:depth]))
            losses = [m for m in holder.children()
                      if isinstance(m, UsesClassCounts)]
            if losses:
                owner = losses[0]
                break
        if owner is None:
            raise ValueError(
                f'{name}: start_tau={module.pending_start_tau} takes the '
                'prior from the G-RW loss beside the classifier, and there '
                'is none; give the classifier frequency_file= instead.')
        module.start_from_prior(owner.class_counts)
        started.append(name)
    return started
