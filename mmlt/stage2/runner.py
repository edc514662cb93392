"""Stage 2 of the decoupled methods: calibrate or re-train the classifier of
a trained, frozen model (DisAlign; cRT, LWS; the post-hoc logit adjustment
and tau-norm, which only test).

One mechanism for mmdet, mmseg and mmpretrain: ``DisAlignRunner``, mmlt's
``SafeRunner`` (``mmlt.engine.runner``: the runtime, crash-safe saves, the
checkpoint to start from) chosen in a config with
``runner_type = 'DisAlignRunner'``.
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
* requires ``load_from`` (a stage-1 checkpoint, or that run's work dir:
  its latest complete checkpoint), fails if the checkpoint
  lacks a weight the model needs besides the calibration (e.g. the
  classifier) or has another shape, and logs the keys that were new; to
  test, it requires the stage-2 weights (a stage-1 checkpoint would report
  stage 1);
* checks that the G-RW losses' frequency files name the training set's
  classes;
* adds ``FiniteLossHook`` (stop on a NaN / inf loss, never save NaN
  weights) and ``RNGStateHook`` (``--resume`` repeats the interrupted run)
  unless the config lists them, and checks that the config's
  ``default_scope`` fits the mmlt adapter it imports.

The functions it uses (``mmlt.core.stage2_parts``, ``.stage1_checkpoint``,
``.training_set_checks``) work without the runner.
"""
import logging

from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from torch import nn

from ..core.stage2_parts import (drop_pretrained_init, freeze_except_stage2,
                                 keep_norm_layers_in_eval,
                                 start_from_loss_prior, stage2_parts)
from ..engine.checks import check_default_scope
from ..engine.hooks import CheckpointMatchesModelHook, FiniteLossHook
from ..engine.resume import RNGStateHook
from ..engine.runner import SafeRunner, is_hook
from .stage1_checkpoint import Stage1CheckpointHook
from .training_set_checks import (check_frequency_classes,
                                  check_frequency_counts, dataset_label_order)

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


class _DropMessages(logging.Filter):
    """Drops the log records whose message contains ``text``."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record) -> bool:
        return self.text not in record.getMessage()


@RUNNERS.register_module()
class DisAlignRunner(SafeRunner):
    """The runner of stage 2 (see the module docstring).

    Use it with ``runner_type = 'DisAlignRunner'`` and ``load_from`` set to
    the stage-1 checkpoint, or to the stage-1 run's work dir (its latest
    checkpoint); ``tools/train.py`` and ``tools/test.py`` build it from the
    config.
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'DisAlignRunner':
        check_default_scope(cfg)
        return super().from_cfg(cfg)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        custom_hooks = list(custom_hooks or [])
        for hook_cls in (FiniteLossHook, RNGStateHook):
            if not any(is_hook(h, hook_cls) for h in custom_hooks):
                custom_hooks.append(hook_cls())
        super().register_hooks(default_hooks, custom_hooks)

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
        nothing_to_resume = self.choose_checkpoint()
        if self._load_from is None and nothing_to_resume:
            # mmengine would go on with nothing loaded: a calibration of
            # random weights
            raise ValueError(
                f'DisAlign stage 2: resume is on but {self.work_dir} holds '
                'no checkpoint, and load_from is not set. Set load_from to '
                'the stage-1 checkpoint to start stage 2, or point '
                '--work-dir at the interrupted run.')
        if self._load_from is None:
            raise ValueError(
                'DisAlign stage 2 calibrates a trained model: set `load_from` '
                'to the stage-1 checkpoint (in the config, or '
                '`--cfg-options load_from=PATH`).')
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
