"""DeiT-LT (Rangwani et al., CVPR 2024) for mmpretrain: a distilled ViT
student trained with a frozen CNN teacher in the loop.

* ``DeiTLTClassifier`` (an ``ImageClassifier``): the student
  (``DistilledVisionTransformer`` + ``DeiTLTClsHead``) and the teacher, a
  ``DistillationTeacher`` (``mmlt.classification.teacher``): a classifier
  built from a config plus checkpoint. The teacher sees the student's batch
  after the data preprocessor, i.e. augmented and Mixup/CutMix-mixed,
  resized (bicubic) to ``teacher.img_size`` when that differs and
  re-normalised to the teacher's mean / std when those differ; the DIST
  head learns its argmax (hard distillation).
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
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmpretrain.models import ImageClassifier
from mmpretrain.models.heads import DeiTClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmlt.core.distillation import hard_distillation_loss
from mmlt.core.reweighting import effective_number_weights
from .teacher import DistillationTeacher


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


@MODELS.register_module()
class DeiTLTClassifier(ImageClassifier):
    """DeiT-LT: distilled ViT student + frozen CNN teacher (module doc).

    Args:
        backbone, head: as ``ImageClassifier``'s; ``backbone`` a
            ``DistilledVisionTransformer``, ``head`` a ``DeiTLTClsHead``.
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
        **kwargs: the other ``ImageClassifier`` arguments (neck,
            train_cfg, data_preprocessor, init_cfg, pretrained);
            ``train_cfg=dict(augments=[Mixup, CutMix])`` gives the batch
            augments used before DRW.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 teacher: Optional[dict] = None,
                 **kwargs):
        super().__init__(backbone=backbone, head=head, **kwargs)
        if not isinstance(self.head, DeiTLTClsHead):
            raise TypeError(f'DeiTLTClassifier needs a DeiTLTClsHead, got '
                            f'{type(self.head).__name__}.')
        self.batch_augments = self.data_preprocessor.batch_augments
        self.drw = False
        # A plain attribute outside nn.Module's bookkeeping: see module doc.
        self.__dict__['_teacher'] = (
            None if teacher is None else DistillationTeacher.build(
                teacher, num_classes=self.head.num_classes))

    @property
    def distillation_teacher(self) -> Optional[DistillationTeacher]:
        """The teacher with its resize and normalisation (None: none)."""
        return self.__dict__.get('_teacher')

    @property
    def teacher(self) -> Optional[nn.Module]:
        """The frozen teacher model."""
        teacher = self.distillation_teacher
        return None if teacher is None else teacher.model

    @property
    def teacher_loaded(self) -> bool:
        teacher = self.distillation_teacher
        return teacher is not None and teacher.loaded

    @property
    def teacher_size(self) -> Optional[Tuple[int, int]]:
        """The teacher's input (h, w); None: the student's."""
        teacher = self.distillation_teacher
        return None if teacher is None else teacher.img_size

    @teacher_size.setter
    def teacher_size(self, size: Optional[Tuple[int, int]]) -> None:
        self.distillation_teacher.img_size = size

    def load_teacher(self, checkpoint: Optional[str] = None) -> None:
        """Load the teacher's weights (``teacher.checkpoint`` by default);
        fails if the file is of another architecture or class count."""
        if self.distillation_teacher is None:
            raise RuntimeError('DeiTLTClassifier has no teacher to load.')
        self.distillation_teacher.load_checkpoint(checkpoint)

    def init_weights(self) -> None:
        """The student's init, then the teacher's checkpoint."""
        super().init_weights()
        if self.teacher is not None:
            self.load_teacher()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.distillation_teacher is not None:
            self.distillation_teacher.eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self.distillation_teacher is not None:
            self.distillation_teacher._apply(fn, *args, **kwargs)
        return self

    def set_drw(self, active: bool) -> None:
        """From epoch K: Mixup/CutMix off (the head switches its loss)."""
        self.drw = bool(active)
        self.data_preprocessor.batch_augments = (
            None if active else self.batch_augments)

    def teacher_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        """The student's (preprocessed, mixed) batch as the teacher takes it
        (``DistillationTeacher.normalize_input``)."""
        return self.distillation_teacher.normalize_input(
            inputs, self.data_preprocessor)

    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's logits on the student's batch (no gradient)."""
        return self.distillation_teacher(inputs, self.data_preprocessor)

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        feats = self.extract_feat(inputs)
        teacher_logits = (None if self.teacher is None else
                          self.teacher_logits(inputs))
        return self.head.loss(feats, data_samples, teacher_logits)
