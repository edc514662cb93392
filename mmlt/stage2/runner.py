"""Stage 2 of the decoupled methods: calibrate or re-train the classifier of
a trained, frozen model (DisAlign; cRT, LWS; the post-hoc logit adjustment
and tau-norm, which only test).

One mechanism for mmdet, mmseg and mmpretrain: ``DisAlignRunner``, an
mmengine ``Runner`` chosen in a config with ``runner_type = 'DisAlignRunner'``.
Every stage-2 classifier is a stock classifier with its stock parameter
names plus one child that stage 2 adds (``STAGE2_PARTS``): ``calibration``
(DisAlign's adaptive calibration, LWS's scales, the parameter-free logit
adjustment and tau-normalisation) or ``retrained`` (cRT's new classifier).
When it builds the model the runner hands a classifier that waits for its
prior (``start_tau`` of mmdet's calibrated classifiers) the counts of the
G-RW loss beside it, and drops the ``Pretrained`` weight inits of the
stage-1 config (``load_from`` replaces every weight; no download). Before
the model is wrapped (so DDP sees only trainable parameters) it

* freezes every parameter outside those children: the frozen part then
  builds no autograd graph; a model whose stage-2 parts have no parameter
  (post-hoc methods) is refused for training, with the test command;
* keeps normalisation layers in eval mode whatever ``model.train()`` says
  (the public code let the frozen backbone's BN statistics drift);

and it

* trains the calibration without weight decay (``NO_WEIGHT_DECAY_REASON``);
* requires ``load_from`` (a stage-1 checkpoint), fails if the checkpoint
  lacks a weight the model needs besides the calibration (e.g. the
  classifier) or has another shape, and logs the keys that were new; to
  test, it requires the stage-2 weights (a stage-1 checkpoint would report
  stage 1);
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
from typing import Dict, List, Tuple

from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn

from .checkpointing import (latest_complete_checkpoint,
                            with_safe_checkpoint_hook)
from .checks import check_default_scope, check_shapes
from .hooks import (CheckpointMatchesModelHook, FiniteLossHook,
                    loaded_checkpoint)
from .resume import RNGStateHook
from .runtime import setup_runtime
from .stage2_parts import (STAGE2_PARTS, drop_pretrained_init,
                           start_from_loss_prior,
                           freeze_except_calibration,
                           freeze_except_stage2, is_calibration_key,
                           is_stage2_key, keep_norm_layers_in_eval,
                           stage2_parts)
from .training_set_checks import (check_frequency_classes,
                                  check_frequency_counts,
                                  dataset_class_counts, dataset_label_order)

# re-exported: the functions of stage 2, usable without the runner
__all__ = [
    'STAGE2_PARTS', 'NO_WEIGHT_DECAY_REASON', 'DisAlignRunner',
    'Stage1CheckpointHook', 'check_stage1_state_dict', 'is_stage2_key',
    'stage2_parts', 'freeze_except_stage2', 'freeze_except_calibration',
    'is_calibration_key', 'keep_norm_layers_in_eval',
    'check_frequency_classes', 'check_frequency_counts',
    'dataset_class_counts', 'dataset_label_order'
]

# One rule for every task: the calibration takes no weight decay. Decay pulls
# each of its parameters to 0, and 0 is the identity only for the margin:
# alpha would go to 0 (logits scaled down, not kept) and the confidence
# layer to a constant sigma = 0.5 that ignores the input. Measured on
# LT-Digits val (classification, 3 seeds, from the 20-epoch stage 1 of an
# earlier demo): top-1 75.3 with weight decay 5e-4 on margin and confidence,
# 75.4 without; no case for the extra rule.
NO_WEIGHT_DECAY_REASON = (
    'weight decay would pull the magnitude to 0 and the confidence to a '
    'constant 0.5; the calibration starts from, and regularises towards, '
    'the identity through its short schedule instead')


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

    def __init__(self, *args, **kwargs):
        # safe checkpoint reading and the rest of mmlt's runtime, whoever
        # builds the runner (the tools have set it up already)
        setup_runtime()
        super().__init__(*args, **kwargs)

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

    def build_model(self, model):
        model = super().build_model(model)
        started = start_from_loss_prior(model)
        if started:
            self.logger.info(
                'DisAlign stage 2: the margins of ' + ', '.join(started) +
                ' start at the logit adjustment of their G-RW loss\'s '
                'prior (start_tau).')
        dropped = drop_pretrained_init(model)
        if dropped:
            self.logger.info(
                'DisAlign stage 2: every weight comes from load_from, so the '
                'pretrained-weight init of the stage-1 config is not run (no '
                'download): ' + '; '.join(dropped))
        return model

    def wrap_model(self, model_wrapper_cfg, model):
        trainable = freeze_except_stage2(model)
        count = keep_norm_layers_in_eval(model)
        values = sum(p.numel() for p in model.parameters() if p.requires_grad)
        self.logger.info(
            f'DisAlign stage 2: {len(trainable)} trainable calibration '
            f'parameters ({values} values), everything else frozen; '
            f'{count} normalisation layers '
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
        self.register_hook(
            Stage1CheckpointHook(training=not self._evaluating))
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
        super().load_or_resume()

    @property
    def _training(self) -> bool:
        """Whether ``train()`` built the train loop (else: val / test)."""
        return self._train_loop is not None and not isinstance(
            self._train_loop, dict)

    @property
    def _evaluating(self) -> bool:
        """Whether ``test()`` or ``val()`` built its loop, outside training:
        the checkpoint loaded is the one to evaluate."""
        built = [loop for loop in (self._test_loop, self._val_loop)
                 if loop is not None and not isinstance(loop, dict)]
        return bool(built) and not self._training

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
