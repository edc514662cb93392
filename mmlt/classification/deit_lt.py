"""DeiT-LT (Rangwani et al., CVPR 2024) for mmpretrain: a distilled ViT
student trained with a frozen CNN teacher in the loop.

* ``DeiTLTClassifier`` (an ``ImageClassifier``): the student
  (``DistilledVisionTransformer`` + ``DeiTLTClsHead``) and the teacher, a
  classifier built from a config plus checkpoint. The teacher sees the
  student's batch after the data preprocessor, i.e. augmented and
  Mixup/CutMix-mixed, resized (bicubic) to ``teacher.img_size`` when that
  differs and re-normalised to the teacher's mean / std when those differ;
  the DIST head learns its argmax (hard distillation).
* ``DeiTLTClsHead`` (a ``DeiTClsHead``): CLS and DIST linear heads,
  ``0.5 * L_cls + 0.5 * L_dist``:

  - before epoch K: ``L_cls`` = the head's ``loss`` (label-smoothed CE) on
    the Mixup/CutMix soft targets; ``L_dist`` = CE against the teacher's
    class;
  - from epoch K (DRW): Mixup/CutMix off, ``L_cls`` = CE on the true labels,
    ``L_dist`` = CE against the teacher's class weighted by the
    effective-number weights ``(1 - beta) / (1 - beta^n_c)`` of that class
    (weighted mean).

  It predicts the average of the two heads' logits (``pred_score``) and
  stores each head's softmax as ``cls_score`` / ``dist_score``, so that
  three ``LongTailAccuracy`` metrics (``pred_key`` / ``prefix``) evaluate
  CLS, DIST and their average in one test run.

K is ``DRWHook(start_epoch=K)`` (``mmlt.classification.drw``), which also
hands the training set's class counts to the head.

The teacher is kept out of the module tree on purpose: it is not in
``state_dict()`` (student checkpoints stay small and load without it), not
in ``parameters()`` (nor the optimizer, nor DDP), its parameters do not
require grad, it runs under ``torch.no_grad()`` and stays in eval mode
whatever ``train()`` is called with. ``.to()`` / ``.cuda()`` move it with the
student. Its checkpoint is loaded by ``init_weights()``, which mmengine's
runner calls before training only: ``tools/test.py`` does not need the
teacher's file.
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from mmpretrain.models import ImageClassifier
from mmpretrain.models.heads import DeiTClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmlt.core.distillation import hard_distillation_loss
from mmlt.core.reweighting import effective_number_weights
from mmlt.engine.checkpoint_io import read_checkpoint


@MODELS.register_module()
class DeiTLTClsHead(DeiTClsHead):
    """DeiT-LT's CLS and DIST heads and loss (see the module doc).

    Args:
        num_classes, in_channels: as ``DeiTClsHead``.
        loss: the CLS loss before DRW, on Mixup/CutMix soft targets
            (DeiT: ``LabelSmoothLoss``, label_smooth_val 0.1,
            mode 'original').
        cls_weight, dist_weight: weights of L_cls and L_dist (0.5, 0.5).
        drw_beta: beta of the effective-number DRW weights (0.9999).
        class_counts: training images per class; None: ``DRWHook`` sets
            them from the training set.
        **kwargs: ``DeiTClsHead`` arguments (hidden_dim, init_cfg, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss: dict = dict(
                     type='LabelSmoothLoss',
                     label_smooth_val=0.1,
                     mode='original'),
                 cls_weight: float = 0.5,
                 dist_weight: float = 0.5,
                 drw_beta: float = 0.9999,
                 class_counts: Optional[Sequence[int]] = None,
                 **kwargs):
        super().__init__(num_classes, in_channels, loss=loss, **kwargs)
        self.cls_weight = cls_weight
        self.dist_weight = dist_weight
        self.drw_beta = drw_beta
        self.drw = False
        self.class_counts = None
        self.drw_weights = None
        if class_counts is not None:
            self.set_class_counts(class_counts)

    def set_class_counts(self, counts: Sequence[int]) -> None:
        if len(counts) != self.num_classes:
            raise ValueError(f'DeiTLTClsHead: {len(counts)} class counts for '
                             f'{self.num_classes} classes.')
        self.class_counts = [int(c) for c in counts]
        self.drw_weights = effective_number_weights(self.class_counts,
                                                    self.drw_beta)

    def set_drw(self, active: bool) -> None:
        if active and self.drw_weights is None:
            raise RuntimeError(
                'DeiTLTClsHead: DRW needs the training class counts: set '
                "`class_counts` or use dict(type='DRWHook', ...), which reads "
                'them from the training set.')
        self.drw = bool(active)

    def forward_heads(self, feats) -> Tuple[torch.Tensor, torch.Tensor]:
        """The CLS and DIST heads' logits."""
        cls_token, dist_token = self.pre_logits(feats)
        return self.layers.head(cls_token), self.layers.head_dist(dist_token)

    def forward(self, feats) -> torch.Tensor:
        """The average of the two heads' logits (DeiT's inference)."""
        cls_logits, dist_logits = self.forward_heads(feats)
        return (cls_logits + dist_logits) / 2

    def loss(self,
             feats,
             data_samples: List[DataSample],
             teacher_logits: Optional[torch.Tensor] = None) -> dict:
        """``loss_cls`` and ``loss_dist`` (already weighted).

        ``teacher_logits``: (N, C) scores or (N,) classes of the teacher on
        this batch. Without them (no teacher) the DIST head learns the
        ground truth's (dominant) class instead.
        """
        cls_logits, dist_logits = self.forward_heads(feats)
        num = cls_logits.size(0)
        soft = 'gt_score' in data_samples[0]
        if soft:
            scores = torch.stack([s.gt_score for s in data_samples])
        if self.drw:
            labels = torch.cat([s.gt_label for s in data_samples])
            loss_cls = F.cross_entropy(cls_logits, labels.to(cls_logits.device))
        elif soft:
            loss_cls = self.loss_module(cls_logits, scores, avg_factor=num)
        else:
            labels = torch.cat([s.gt_label for s in data_samples])
            loss_cls = self.loss_module(cls_logits, labels, avg_factor=num)
        if teacher_logits is None:
            teacher_logits = scores.argmax(1) if soft else torch.cat(
                [s.gt_label for s in data_samples])
        weights = self._drw_weights_like(dist_logits) if self.drw else None
        loss_dist = hard_distillation_loss(dist_logits, teacher_logits,
                                           weights)
        return dict(
            loss_cls=self.cls_weight * loss_cls,
            loss_dist=self.dist_weight * loss_dist)

    def _drw_weights_like(self, logits: torch.Tensor) -> torch.Tensor:
        """The DRW weights on the logits' device, copied there once: a copy
        from host memory in every step would wait for the GPU's queue."""
        weights = self.drw_weights
        if weights.device == logits.device:
            return weights
        cached = getattr(self, '_drw_weights_device', None)
        if (cached is None or cached[0] is not weights
                or cached[1].device != logits.device):
            cached = (weights, weights.to(logits.device))
            self._drw_weights_device = cached
        return cached[1]

    def predict(self,
                feats,
                data_samples: Optional[List[Optional[DataSample]]] = None
                ) -> List[DataSample]:
        """``pred_score`` / ``pred_label`` of the averaged logits, plus
        ``cls_score`` and ``dist_score`` (softmax of each head)."""
        cls_logits, dist_logits = self.forward_heads(feats)
        samples = self._get_predictions((cls_logits + dist_logits) / 2,
                                        data_samples)
        for sample, cls_score, dist_score in zip(
                samples, F.softmax(cls_logits, dim=1),
                F.softmax(dist_logits, dim=1)):
            sample.set_field(cls_score, 'cls_score', dtype=torch.Tensor)
            sample.set_field(dist_score, 'dist_score', dtype=torch.Tensor)
        return samples


def _num_classes(model: nn.Module) -> Optional[int]:
    head = getattr(model, 'head', None)
    return getattr(head, 'num_classes', None)


def _norm_params(preprocessor) -> Tuple[Optional[torch.Tensor],
                                        Optional[torch.Tensor], bool]:
    if getattr(preprocessor, '_enable_normalize', False):
        mean, std = preprocessor.mean, preprocessor.std
    else:
        mean = std = None
    return mean, std, bool(getattr(preprocessor, 'to_rgb', False))


@MODELS.register_module()
class DeiTLTClassifier(ImageClassifier):
    """DeiT-LT: distilled ViT student + frozen CNN teacher (module doc).

    Args:
        backbone, neck, head, train_cfg, data_preprocessor, init_cfg,
            pretrained: as ``ImageClassifier``; ``backbone`` a
            ``DistilledVisionTransformer``, ``head`` a ``DeiTLTClsHead``,
            ``train_cfg=dict(augments=[Mixup, CutMix])`` the batch
            augments used before DRW.
        teacher: ``dict(config=..., checkpoint=..., img_size=None)``:
            ``config`` a config file whose ``model`` is the teacher (its
            ``custom_imports`` are imported) or a model dict; ``checkpoint``
            its weights (mmengine checkpoint or bare state dict), loaded by
            ``init_weights()``; ``img_size`` (int or (h, w)) the teacher's
            input resolution, None for the student's; ``resize_antialias``
            (default False) low-pass filters a downscale, which DeiT-LT's
            public code does not (plain bicubic ``F.interpolate``);
            ``channels_last`` (default None: on a GPU) runs the teacher in
            the channels-last memory format (cuDNN's fast layout for bf16
            convolutions; the same results to rounding); ``compile``
            (default False) wraps its forward in ``torch.compile``: True, or
            a dict of ``torch.compile`` arguments, e.g.
            ``dict(mode='reduce-overhead')`` to capture it in CUDA graphs
            (fewer kernel launches for a small teacher). The teacher runs
            under the student's autocast (an ``AmpOptimWrapper``). None:
            no teacher (the DIST head learns the labels; for ablations and
            benchmarks).
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 teacher: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if not isinstance(self.head, DeiTLTClsHead):
            raise TypeError(f'DeiTLTClassifier needs a DeiTLTClsHead, got '
                            f'{type(self.head).__name__}.')
        self.batch_augments = self.data_preprocessor.batch_augments
        self.drw = False
        self.teacher_checkpoint = None
        self.teacher_size = None
        self.teacher_resize_antialias = False
        self.teacher_channels_last = None
        self.teacher_compile = None
        self.teacher_loaded = False
        # A plain attribute outside nn.Module's bookkeeping: see module doc.
        self.__dict__['_teacher'] = None
        if teacher is not None:
            self._build_teacher(teacher)

    @property
    def teacher(self) -> Optional[nn.Module]:
        return self.__dict__.get('_teacher')

    def _build_teacher(self, teacher: dict) -> None:
        teacher = dict(teacher)
        unknown = set(teacher) - {'config', 'checkpoint', 'img_size',
                                  'resize_antialias', 'channels_last',
                                  'compile'}
        compile_cfg = teacher.get('compile', False)
        if compile_cfg is True:
            compile_cfg = {}
        if unknown or 'config' not in teacher or not (
                compile_cfg in (False, None) or isinstance(compile_cfg, dict)):
            raise ValueError(
                'DeiTLTClassifier: teacher must be dict(config=<config file '
                f'or model dict>, checkpoint=<file>, img_size=<int, (h, w) or '
                f'None>, resize_antialias=<bool, default False>, '
                'channels_last=<bool or None (default: on a GPU)>, '
                'compile=<bool or dict of torch.compile arguments, default '
                f'False>), got keys {sorted(teacher)}, compile='
                f'{teacher.get("compile", False)!r}.')
        self.teacher_channels_last = teacher.get('channels_last')
        self.teacher_compile = (None if compile_cfg in (False, None) else
                                dict(compile_cfg))
        config = teacher['config']
        if isinstance(config, str):
            cfg = Config.fromfile(config)
            model_cfg = cfg.model
            # as mmengine's Runner does: the top-level data_preprocessor
            # (mean / std, to_rgb) belongs to the model
            if cfg.get('data_preprocessor') is not None:
                model_cfg.setdefault('data_preprocessor',
                                     cfg.data_preprocessor)
        else:
            model_cfg = copy.deepcopy(config)
        model = MODELS.build(model_cfg)
        student_classes = self.head.num_classes
        teacher_classes = _num_classes(model)
        if teacher_classes is not None and teacher_classes != student_classes:
            raise ValueError(
                f'DeiTLTClassifier: the teacher ({config if isinstance(config, str) else "model dict"}) '
                f'has {teacher_classes} classes, the student '
                f'{student_classes}. Train the teacher on the same classes.')
        for param in model.parameters():
            param.requires_grad_(False)
        model.eval()
        size = teacher.get('img_size')
        if isinstance(size, int):
            size = (size, size)
        self.teacher_size = tuple(size) if size is not None else None
        self.teacher_resize_antialias = bool(
            teacher.get('resize_antialias', False))
        self.teacher_checkpoint = teacher.get('checkpoint')
        self.__dict__['_teacher'] = model

    def load_teacher(self, checkpoint: Optional[str] = None) -> None:
        """Load the teacher's weights (``teacher.checkpoint`` by default);
        fails if the file is of another architecture or class count."""
        filename = checkpoint or self.teacher_checkpoint
        if self.teacher is None:
            raise RuntimeError('DeiTLTClassifier has no teacher to load.')
        if not filename:
            raise ValueError('DeiTLTClassifier: set teacher.checkpoint, the '
                             "teacher's trained weights.")
        if not osp.isfile(filename) and '://' not in filename:
            raise FileNotFoundError(
                f"DeiT-LT teacher checkpoint {filename} not found: train the "
                'teacher first (its config is in the teacher dict) or set '
                'model.teacher.checkpoint.')
        # weights_only with mmlt's allow-list: a teacher file that holds
        # anything else is refused before any of it runs (--unsafe-load /
        # MMLT_UNSAFE_LOAD=1 to opt in)
        ckpt = read_checkpoint(filename, map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        state = {k[7:] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        own = self.teacher.state_dict()
        missing = [k for k in own if k not in state]
        shapes = [(k, tuple(state[k].shape), tuple(v.shape))
                  for k, v in own.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
        # A class-count mismatch shows in a head tensor whose first dimension
        # is the class count; other head shapes (feature width, hidden
        # layer) are another architecture, reported below.
        classes = _num_classes(self.teacher)
        head = [s for s in shapes if s[0].startswith('head.') and s[1]
                and s[2][:1] == (classes, ) and s[1][0] != classes]
        if head:
            key, theirs, ours = head[0]
            raise ValueError(
                f'DeiT-LT teacher checkpoint {filename}: {key} has shape '
                f'{theirs}, the teacher model {ours}: the checkpoint was '
                f'trained for {theirs[0]} classes, the student has '
                f'{self.head.num_classes}.')
        if missing or shapes:
            raise ValueError(
                f'DeiT-LT teacher checkpoint {filename} does not fit the '
                f'teacher config: {len(missing)} missing keys (e.g. '
                f'{missing[:3]}), {len(shapes)} other shapes (e.g. '
                f'{shapes[:3]}).')
        device = next(iter(own.values())).device
        self.teacher.load_state_dict(
            {k: state[k] for k in own}, strict=True)
        self.teacher.to(device).eval()
        self.teacher_loaded = True
        print_log(f'DeiT-LT: loaded the teacher from {filename}', 'current')

    def init_weights(self) -> None:
        """The student's init, then the teacher's checkpoint."""
        super().init_weights()
        if self.teacher is not None:
            self.load_teacher()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.teacher is not None:
            self.teacher._apply(fn, *args, **kwargs)
        return self

    def set_drw(self, active: bool) -> None:
        """From epoch K: Mixup/CutMix off (the head switches its loss)."""
        self.drw = bool(active)
        self.data_preprocessor.batch_augments = (
            None if active else self.batch_augments)

    def teacher_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """The student's (preprocessed, mixed) batch as the teacher takes it:
        resized (bicubic, without antialiasing unless
        ``teacher.resize_antialias``, as DeiT-LT's public code) and
        re-normalised / channel-flipped if needed."""
        x = inputs
        if self.teacher_size is not None and tuple(
                x.shape[-2:]) != self.teacher_size:
            x = F.interpolate(
                x, size=self.teacher_size, mode='bicubic',
                align_corners=False,
                antialias=self.teacher_resize_antialias)
        s_mean, s_std, s_rgb = _norm_params(self.data_preprocessor)
        t_mean, t_std, t_rgb = _norm_params(self.teacher.data_preprocessor)
        if self._same_normalisation(s_mean, s_std, s_rgb, t_mean, t_std,
                                    t_rgb):
            return x
        if s_mean is not None:
            x = x * s_std + s_mean
        if s_rgb != t_rgb:
            x = x.flip(1)
        if t_mean is not None:
            x = (x - t_mean.to(x)) / t_std.to(x)
        return x

    def _same_normalisation(self, s_mean, s_std, s_rgb, t_mean, t_std,
                            t_rgb) -> bool:
        """Whether student and teacher normalise alike; compared once per
        set of mean / std tensors (``torch.equal`` on a GPU waits for it)."""
        key = tuple(None if t is None else id(t)
                    for t in (s_mean, s_std, t_mean, t_std)) + (s_rgb, t_rgb)
        cached = self.__dict__.get('_teacher_norm_same')
        if cached is not None and cached[0] == key:
            return cached[1]
        same = (s_rgb == t_rgb and (s_mean is None) == (t_mean is None) and (
            s_mean is None or (torch.equal(s_mean, t_mean.to(s_mean))
                               and torch.equal(s_std, t_std.to(s_std)))))
        # the tensors are kept alive with the key, so their ids stay theirs
        self.__dict__['_teacher_norm_same'] = (
            key, same, (s_mean, s_std, t_mean, t_std))
        return same

    def _teacher_forward(self):
        """The teacher, or its ``torch.compile`` (built on first use)."""
        if self.teacher_compile is None:
            return self.teacher
        compiled = self.__dict__.get('_teacher_compiled')
        if compiled is None or compiled[0] is not self.teacher:
            # outside the module tree, as the teacher (module doc)
            compiled = (self.teacher,
                        torch.compile(self.teacher, **self.teacher_compile))
            self.__dict__['_teacher_compiled'] = compiled
        return compiled[1]

    @torch.no_grad()
    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        if not self.teacher_loaded:
            raise RuntimeError(
                'DeiT-LT: the teacher has no weights yet; call '
                'init_weights() or load_teacher() (mmengine\'s runner calls '
                'init_weights() before training).')
        self.teacher.eval()
        x = self.teacher_inputs(inputs)
        channels_last = self.teacher_channels_last
        if channels_last is None:
            channels_last = x.is_cuda
        if channels_last and x.dim() == 4:
            if self.__dict__.get('_teacher_channels_last') is not \
                    self.teacher:
                self.teacher.to(memory_format=torch.channels_last)
                self.__dict__['_teacher_channels_last'] = self.teacher
            x = x.contiguous(memory_format=torch.channels_last)
        return self._teacher_forward()(x, mode='tensor')

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        feats = self.extract_feat(inputs)
        teacher_logits = (None if self.teacher is None else
                          self.teacher_logits(inputs))
        return self.head.loss(feats, data_samples, teacher_logits)
