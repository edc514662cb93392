"""Stage 2 of the decoupled methods: calibrate or re-train the classifier of
a trained, frozen model (DisAlign; cRT, LWS; the post-hoc logit adjustment
and tau-norm, which only test).

One mechanism for mmdet, mmseg and mmpretrain: ``DisAlignRunner``, an
mmengine ``Runner`` chosen in a config with ``runner_type = 'DisAlignRunner'``.
Every stage-2 classifier is a stock classifier with its stock parameter
names plus one child that stage 2 adds (``STAGE2_PARTS``): ``calibration``
(DisAlign's adaptive calibration, LWS's scales, the parameter-free logit
adjustment and tau-normalisation) or ``retrained`` (cRT's new classifier).
Before the model is wrapped (so DDP sees only trainable parameters) the
runner

* freezes every parameter outside those children: the frozen part then
  builds no autograd graph; a model whose stage-2 parts have no parameter
  (post-hoc methods) is refused for training, with the test command;
* keeps normalisation layers in eval mode whatever ``model.train()`` says
  (the public code let the frozen backbone's BN statistics drift);

and it

* trains the calibration without weight decay (``NO_WEIGHT_DECAY_REASON``);
* requires ``load_from`` (a stage-1 checkpoint), fails if the checkpoint
  lacks a weight the model needs besides the calibration (e.g. the
  classifier) or has another shape, and logs the keys that were new;
* checks that the G-RW losses' frequency files name the training set's
  classes;
* adds ``FiniteLossHook`` (stop on a NaN / inf loss, never save NaN
  weights) and ``RNGStateHook`` (``--resume`` repeats the interrupted run)
  unless the config lists them, and checks that the config's
  ``default_scope`` fits the mmlt adapter it imports;
* saves with ``SafeCheckpointHook`` in place of ``CheckpointHook`` (a crash
  during a save leaves the last complete checkpoint).

The functions are usable without the runner.
"""
import logging
import re
import types
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.hooks import Hook
from mmengine.runner import Runner
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from ..core.class_counts import UsesClassCounts
from ..core.frequency.counts import differing_class_names
from .checkpointing import (latest_complete_checkpoint,
                            with_safe_checkpoint_hook)
from .checks import (check_default_scope,
                     check_shapes)
from .checkpoint_io import reading_safely
from .hooks import CheckpointMatchesModelHook, FiniteLossHook
from .resume import RNGStateHook

# The children a stage-2 classifier adds to the stock one: the only
# parameters stage 2 learns, and the only keys a stage-1 checkpoint lacks.
STAGE2_PARTS = ('calibration', 'retrained')
# One rule for every task: the calibration takes no weight decay. Decay pulls
# each of its parameters to 0, and 0 is the identity only for the margin:
# alpha would go to 0 (logits scaled down, not kept) and the confidence
# layer to a constant sigma = 0.5 that ignores the input. Measured on
# LT-Digits val (classification, 3 seeds): top-1 75.3 with weight decay 5e-4
# on margin and confidence, 75.4 without; no case for the extra rule.
NO_WEIGHT_DECAY_REASON = (
    'weight decay would pull the magnitude to 0 and the confidence to a '
    'constant 0.5; the calibration starts from, and regularises towards, '
    'the identity through its short schedule instead')


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


def _unwrap(dataset):
    """The dataset inside wrappers (``ClassBalancedDataset``, ...)."""
    while not hasattr(dataset, 'metainfo') and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    return dataset


def dataset_class_counts(dataset, kind: str,
                         num_classes: int) -> Optional[np.ndarray]:
    """Recount ``kind`` per class on a built dataset, where that is cheap:
    images per class of an mmpretrain dataset (its labels); images or
    instances per class of an mmdet dataset (its instances, ignored ones
    left out). None where it is not (pixels would take a pass over every
    label map)."""
    dataset = _unwrap(dataset)
    if hasattr(dataset, 'get_gt_labels'):  # mmpretrain
        if kind != 'images':
            return None
        labels = np.asarray(dataset.get_gt_labels(), dtype=np.int64)
        return np.bincount(labels, minlength=num_classes)[:num_classes]
    if kind not in ('images', 'instances') or not hasattr(
            dataset, 'get_data_info'):
        return None
    counts = np.zeros(num_classes, dtype=np.int64)
    for i in range(len(dataset)):
        instances = dataset.get_data_info(i).get('instances')
        if instances is None:  # not a detection dataset
            return None
        labels = [inst['bbox_label'] for inst in instances
                  if not inst.get('ignore_flag', 0)]
        if kind == 'images':
            labels = set(labels)
        for label in labels:
            if 0 <= label < num_classes:
                counts[label] += 1
    return counts


def check_frequency_counts(model: nn.Module, dataset,
                           dataset_name: str = 'the training set') -> None:
    """Compare each G-RW loss's class counts with the training set's own.

    Classification: one image is one sample, so the counts must be equal
    (an error: a frequency file of another split or subset re-weights
    wrongly). Detection: a warning, as the dataset's ``filter_cfg`` may
    drop images on purpose. Segmentation (pixels) is not recounted.
    """
    strict = hasattr(_unwrap(dataset), 'get_gt_labels')
    for name, module in model.named_modules():
        if not isinstance(module, UsesClassCounts) or module.count_kind is None:
            continue
        counts = dataset_class_counts(dataset, module.count_kind,
                                      module.num_classes)
        if counts is None:
            continue
        file_counts = np.asarray(module.class_counts)
        bad = np.flatnonzero(file_counts != counts)
        if not len(bad):
            continue
        names = module.classes or [f'class_{i}' for i in
                                   range(module.num_classes)]
        message = (
            f'{name}: the {module.count_kind} counts of {module.source} '
            f'disagree with {dataset_name} for {len(bad)} classes, e.g. ' +
            '; '.join(f'{names[i]!r}: {int(file_counts[i])} (file) vs '
                      f'{int(counts[i])} (dataset)' for i in bad[:5]) +
            '. Compute the frequencies on this training set with '
            'tools/analysis/class_frequency.py.')
        if strict:
            raise ValueError(message)
        warnings.warn(message + ' (The dataset\'s filter_cfg may explain a '
                      'small difference.)')


def dataset_label_order(dataset) -> Tuple[Optional[Sequence[str]],
                                            Optional[Sequence[int]]]:
    """``(classes, category_ids)`` of a built dataset, unwrapping dataset
    wrappers (``ClassBalancedDataset``, ``RepeatDataset``, ...).

    ``category_ids`` are mmdet's ``cat_ids`` of LVIS / COCO datasets: the
    annotation file's category id of label 0, 1, ..., in the json's order.
    """
    dataset = _unwrap(dataset)
    metainfo = getattr(dataset, 'metainfo', None) or {}
    cat_ids = getattr(dataset, 'cat_ids', None)
    return metainfo.get('classes'), (None if cat_ids is None
                                     else [int(i) for i in cat_ids])


def check_frequency_classes(model: nn.Module,
                            classes: Optional[Sequence[str]],
                            dataset_name: str = 'the training set',
                            category_ids: Optional[Sequence[int]] = None
                            ) -> None:
    """Fail if a G-RW loss was given frequencies of other classes, or of
    the same classes in another label order.

    With LVIS / COCO jsons the label order is the json's category order;
    when both the frequency file and the dataset know the category ids,
    they must agree label by label (a name check alone passes when the json
    lists its categories in another order, and the weights are permuted).
    """
    if classes is None and category_ids is None:
        return
    for name, module in model.named_modules():
        if not isinstance(module, UsesClassCounts):
            continue
        file_ids = module.category_ids
        if category_ids is not None and file_ids is not None:
            if tuple(file_ids) != tuple(category_ids):
                diff = [(i, a, b) for i, (a, b) in enumerate(
                    zip(file_ids, category_ids)) if a != b]
                detail = ('; '.join(f'label {i}: category id {a} (file) vs '
                                    f'{b} (dataset)' for i, a, b in diff[:3])
                          if diff else f'{len(file_ids)} ids (file) vs '
                          f'{len(category_ids)} (dataset)')
                raise ValueError(
                    f'{name}: the class frequencies ({module.source}) are not '
                    f'in the label order of {dataset_name}: {detail}. '
                    'Compute them from the same annotation file with '
                    'tools/analysis/class_frequency.py.')
            continue  # same ids in the same order: the same classes
        if category_ids is not None and file_ids is None:
            warnings.warn(
                f'{name}: {module.source} has no category ids, so its label '
                f'order cannot be checked against {dataset_name}; older '
                'mmlt versions wrote LVIS / COCO categories sorted by id. '
                'Recompute it with tools/analysis/class_frequency.py.')
        if classes is None:
            continue
        classes = tuple(classes)
        if module.num_classes != len(classes):
            raise ValueError(
                f'{name}: the class frequencies ({module.source}) cover '
                f'{module.num_classes} classes but {dataset_name} has '
                f'{len(classes)} classes. Compute them on this dataset with '
                'tools/analysis/class_frequency.py.')
        diff = differing_class_names(module.classes, classes)
        if diff:
            raise ValueError(
                f'{name}: the class names in {module.source} differ from '
                f'those of {dataset_name}, e.g. ' + '; '.join(
                    f'class {i}: {a!r} (file) vs {b!r} (dataset)'
                    for i, a, b in diff[:3]) + '. Compute the frequencies '
                'on this dataset with tools/analysis/class_frequency.py.')


class Stage1CheckpointHook(Hook):
    """Check the checkpoint a stage-2 run starts from (``load_from``, or the
    interrupted run's on ``--resume``) before mmengine loads it: every
    weight but the stage-2 parts present with its shape
    (:func:`check_stage1_state_dict`); log the stage-2 keys that keep their
    init and the checkpoint's keys the model does not use; warn when
    ``load_from`` already holds a calibration. ``DisAlignRunner`` registers
    it (for val / test, ``CheckpointMatchesModelHook`` too).
    """
    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        filename = getattr(runner, '_load_from', None) or 'the checkpoint'
        new_keys, unexpected = check_stage1_state_dict(
            model, state, f'checkpoint {filename}')
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
                f'(calibration) keys keep their identity init: '
                f'{", ".join(new_keys)}')
        if unexpected:
            runner.logger.warning(
                f'{filename} has {len(unexpected)} keys the model does not '
                f'use (ignored): {", ".join(unexpected[:10])}')


def _is_hook(hook, hook_cls: type) -> bool:
    kind = hook.get('type') if isinstance(hook, dict) else type(hook)
    if isinstance(kind, str):
        return kind.rsplit('.', 1)[-1] == hook_cls.__name__
    return isinstance(kind, type) and issubclass(kind, hook_cls)


class _DropMessages(logging.Filter):
    """Drops the log records whose message contains ``text``."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record) -> bool:
        return self.text not in record.getMessage()


@RUNNERS.register_module()
class DisAlignRunner(Runner):
    """The mmengine Runner for DisAlign stage 2 (see the module docstring).

    Use it with ``runner_type = 'DisAlignRunner'`` and ``load_from`` set to
    the stage-1 checkpoint; the standard ``tools/train.py`` and
    ``tools/test.py`` build it from the config.
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'DisAlignRunner':
        check_default_scope(cfg)
        return super().from_cfg(cfg)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        custom_hooks = list(custom_hooks or [])
        for hook_cls in (FiniteLossHook, RNGStateHook):
            if not any(_is_hook(h, hook_cls) for h in custom_hooks):
                custom_hooks.append(hook_cls())
        super().register_hooks(with_safe_checkpoint_hook(default_hooks),
                               custom_hooks)

    def wrap_model(self, model_wrapper_cfg, model):
        trainable = freeze_except_stage2(model)
        count = keep_norm_layers_in_eval(model)
        self.logger.info(
            f'DisAlign stage 2: {len(trainable)} trainable calibration '
            f'parameters ({sum(p.numel() for n, p in model.named_parameters() if p.requires_grad)} '
            f'values), everything else frozen; {count} normalisation layers '
            'kept in eval mode.')
        return super().wrap_model(model_wrapper_cfg, model)

    def build_optim_wrapper(self, optim_wrapper):
        # mmengine's optimizer constructor warns once per parameter without
        # gradient: in stage 2 that is every weight of the model but the
        # calibration, on purpose (wrap_model logs the count once).
        logger = MMLogger.get_current_instance()
        skips = _DropMessages('is skipped since its requires_grad=False')
        logger.addFilter(skips)
        try:
            return self._build_optim_wrapper(optim_wrapper)
        finally:
            logger.removeFilter(skips)

    def _build_optim_wrapper(self, optim_wrapper):
        if isinstance(optim_wrapper, dict) and isinstance(
                optim_wrapper.get('optimizer'), dict):
            optim_wrapper = optim_wrapper.copy()
            optimizer = dict(optim_wrapper['optimizer'])
            if optimizer.get('weight_decay'):
                self.logger.info(
                    f'DisAlign stage 2: weight_decay='
                    f'{optimizer["weight_decay"]} of the config is not '
                    f'applied to the calibration: {NO_WEIGHT_DECAY_REASON}.')
            # stated, not omitted: AdamW's own default is 0.01
            optimizer['weight_decay'] = 0.0
            optim_wrapper['optimizer'] = optimizer
        return super().build_optim_wrapper(optim_wrapper)

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return
        if self._load_from is None and not self._resume:
            raise ValueError(
                'DisAlign stage 2 calibrates a trained model: set `load_from` '
                'to the stage-1 checkpoint (in the config, or '
                '`--cfg-options load_from=PATH`).')
        if self._resume and self._load_from is None:
            # mmengine's own lookup would read last_checkpoint's relative
            # path from the cwd
            self._load_from = latest_complete_checkpoint(self.work_dir)
        if self._resume and self._load_from is None:
            # mmengine would go on with nothing loaded: a calibration of
            # random weights
            raise ValueError(
                f'DisAlign stage 2: resume is on but {self.work_dir} holds '
                'no checkpoint, and load_from is not set. Set load_from to '
                'the stage-1 checkpoint to start stage 2, or point '
                '--work-dir at the interrupted run.')
        # the checks of the checkpoint, between mmengine's reading and
        # loading it; to evaluate, also the model's own checkpoint (a
        # missing cRT classifier would be a random one)
        self.register_hook(Stage1CheckpointHook())
        if not self._training:
            self.register_hook(CheckpointMatchesModelHook())
        if self._training:
            dataset = self.train_dataloader.dataset
            classes, category_ids = dataset_label_order(dataset)
            check_frequency_classes(
                self._plain_model, classes,
                f'the training set ({type(dataset).__name__})',
                category_ids=category_ids)
            check_frequency_counts(
                self._plain_model, dataset,
                f'the training set ({type(dataset).__name__})')
        with reading_safely():  # whoever built the runner
            super().load_or_resume()

    @property
    def _training(self) -> bool:
        """Whether ``train()`` built the train loop (else: val / test)."""
        return self._train_loop is not None and not isinstance(
            self._train_loop, dict)

    def train(self) -> nn.Module:
        if not any(p.requires_grad for p in self._plain_model.parameters()):
            parts = sorted({type(m).__name__ for _, m in
                            stage2_parts(self._plain_model)})
            raise ValueError(
                f'this stage-2 model has nothing to learn: its stage-2 parts '
                f'({", ".join(parts)}) are post-hoc (logit adjustment, '
                'tau-normalisation). Evaluate them on the stage-1 checkpoint '
                'instead: python tools/test.py CONFIG STAGE1_CHECKPOINT '
                '(choose tau on the val split with '
                'tools/analysis/choose_tau.py).')
        return super().train()

    @property
    def _plain_model(self) -> nn.Module:
        return self.model.module if is_model_wrapper(self.model) else self.model
