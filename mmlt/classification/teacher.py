"""DeiT-LT's teacher: a frozen classifier that owns its input resolution and
normalisation (as timm's ``DistillationTeacher`` with ``normalize_input``).

``DistillationTeacher`` wraps the teacher model (an mmpretrain classifier,
built from a config, its weights read with mmlt's safe
``read_checkpoint``). Given the student's batch after the student's data
preprocessor (augmented, Mixup/CutMix-mixed, normalised with the student's
mean / std), it resizes it (bicubic) to ``img_size`` when that differs,
re-normalises it to the teacher's mean / std and channel order when those
differ, and returns the teacher's logits under ``torch.no_grad()``.

The teacher stays frozen: its parameters do not require grad and it stays
in eval mode whatever ``train()`` is called with. ``DeiTLTClassifier``
keeps it outside its own module tree (module doc of
``mmlt.classification.deit_lt``).
"""
import copy
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from mmpretrain.registry import MODELS

from mmlt.engine.checkpoint_io import read_checkpoint
from mmlt.engine.checkpointing import run_checkpoint

#: The keys of ``DeiTLTClassifier``'s ``teacher`` dict.
TEACHER_KEYS = ('config', 'checkpoint', 'img_size', 'resize_antialias',
                'channels_last', 'compile')


def _num_classes(model: nn.Module) -> Optional[int]:
    head = getattr(model, 'head', None)
    return getattr(head, 'num_classes', None)


def normalisation(preprocessor) -> Tuple[Optional[torch.Tensor],
                                         Optional[torch.Tensor], bool]:
    """``(mean, std, to_rgb)`` of an mmpretrain data preprocessor; mean and
    std None when it does not normalise."""
    if getattr(preprocessor, '_enable_normalize', False):
        mean, std = preprocessor.mean, preprocessor.std
    else:
        mean = std = None
    return mean, std, bool(getattr(preprocessor, 'to_rgb', False))


class DistillationTeacher(nn.Module):
    """A frozen teacher classifier with its own resize and normalisation.

    Args:
        model: the teacher, an mmpretrain classifier (``forward(x,
            mode='tensor')`` gives logits; its ``data_preprocessor`` holds
            the mean / std it was trained with). Frozen here.
        checkpoint: its weights, loaded by ``load_checkpoint()``: a
            checkpoint file, or the teacher run's work dir (its latest
            complete checkpoint).
        img_size: (h, w) or int, the teacher's input resolution; None: that
            of the inputs.
        resize_antialias: low-pass filter a downscale (DeiT-LT's public code
            does not: plain bicubic ``F.interpolate``).
        channels_last: run in the channels-last memory format; None: on a
            GPU.
        compile: None, or a dict of ``torch.compile`` arguments for the
            teacher's forward (compiled on first use).
    """

    def __init__(self,
                 model: nn.Module,
                 checkpoint: Optional[str] = None,
                 img_size: Union[int, Sequence[int], None] = None,
                 resize_antialias: bool = False,
                 channels_last: Optional[bool] = None,
                 compile: Optional[dict] = None):
        super().__init__()
        for param in model.parameters():
            param.requires_grad_(False)
        self.model = model.eval()
        self.checkpoint = checkpoint
        if isinstance(img_size, int):
            img_size = (img_size, img_size)
        self.img_size = tuple(img_size) if img_size is not None else None
        self.resize_antialias = bool(resize_antialias)
        self.channels_last = channels_last
        self.compile_options = None if compile is None else dict(compile)
        self.loaded = False
        self._channels_last_done = False
        self._norm_same = None

    @classmethod
    def build(cls, teacher: dict,
              num_classes: Optional[int] = None) -> 'DistillationTeacher':
        """From ``DeiTLTClassifier``'s ``teacher`` dict (its doc); the
        teacher must have ``num_classes`` classes when it says."""
        teacher = dict(teacher)
        unknown = set(teacher) - set(TEACHER_KEYS)
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
        teacher_classes = _num_classes(model)
        if (num_classes is not None and teacher_classes is not None
                and teacher_classes != num_classes):
            source = config if isinstance(config, str) else 'model dict'
            raise ValueError(
                f'DeiTLTClassifier: the teacher ({source}) '
                f'has {teacher_classes} classes, the student '
                f'{num_classes}. Train the teacher on the same classes.')
        return cls(
            model,
            checkpoint=teacher.get('checkpoint'),
            img_size=teacher.get('img_size'),
            resize_antialias=teacher.get('resize_antialias', False),
            channels_last=teacher.get('channels_last'),
            compile=None if compile_cfg in (False, None) else compile_cfg)

    def train(self, mode: bool = True):
        """Stays in eval mode (frozen)."""
        return super().train(False)

    def load_checkpoint(self, filename: Optional[str] = None) -> None:
        """Load the teacher's weights (``checkpoint`` by default); fails if
        the file is of another architecture or class count."""
        filename = filename or self.checkpoint
        if not filename:
            raise ValueError('DeiTLTClassifier: set teacher.checkpoint, the '
                             "teacher's trained weights.")
        # the teacher run's work dir: its latest complete checkpoint
        filename, taken = run_checkpoint(
            filename, 'model.teacher.checkpoint',
            'train the teacher first (its config is in the teacher dict) or '
            'set model.teacher.checkpoint to a checkpoint file.')
        if taken:
            print_log(taken, 'current')
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
        own = self.model.state_dict()
        missing = [k for k in own if k not in state]
        shapes = [(k, tuple(state[k].shape), tuple(v.shape))
                  for k, v in own.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
        # A class-count mismatch shows in a head tensor whose first dimension
        # is the class count; other head shapes (feature width, hidden
        # layer) are another architecture, reported below.
        classes = _num_classes(self.model)
        head = [s for s in shapes if s[0].startswith('head.') and s[1]
                and s[2][:1] == (classes, ) and s[1][0] != classes]
        if head:
            key, theirs, ours = head[0]
            raise ValueError(
                f'DeiT-LT teacher checkpoint {filename}: {key} has shape '
                f'{theirs}, the teacher model {ours}: the checkpoint was '
                f'trained for {theirs[0]} classes, the student has '
                f'{classes}.')
        if missing or shapes:
            raise ValueError(
                f'DeiT-LT teacher checkpoint {filename} does not fit the '
                f'teacher config: {len(missing)} missing keys (e.g. '
                f'{missing[:3]}), {len(shapes)} other shapes (e.g. '
                f'{shapes[:3]}).')
        device = next(iter(own.values())).device
        self.model.load_state_dict({k: state[k] for k in own}, strict=True)
        self.model.to(device).eval()
        self.loaded = True
        print_log(f'DeiT-LT: loaded the teacher from {filename}', 'current')

    def normalize_input(self, inputs: torch.Tensor,
                        source_preprocessor) -> torch.Tensor:
        """``inputs``, normalised by ``source_preprocessor`` (the
        student's), as the teacher takes them: resized (bicubic, without
        antialiasing unless ``resize_antialias``, as DeiT-LT's public code)
        and re-normalised / channel-flipped if needed."""
        x = inputs
        if self.img_size is not None and tuple(
                x.shape[-2:]) != self.img_size:
            x = F.interpolate(
                x, size=self.img_size, mode='bicubic', align_corners=False,
                antialias=self.resize_antialias)
        s_mean, s_std, s_rgb = normalisation(source_preprocessor)
        t_mean, t_std, t_rgb = normalisation(self.model.data_preprocessor)
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
        cached = self._norm_same
        if cached is not None and cached[0] == key:
            return cached[1]
        same = (s_rgb == t_rgb and (s_mean is None) == (t_mean is None) and (
            s_mean is None or (torch.equal(s_mean, t_mean.to(s_mean))
                               and torch.equal(s_std, t_std.to(s_std)))))
        # the tensors are kept alive with the key, so their ids stay theirs
        self._norm_same = (key, same, (s_mean, s_std, t_mean, t_std))
        return same

    def _forward_model(self):
        """The model, or its ``torch.compile`` (built on first use)."""
        if self.compile_options is None:
            return self.model
        compiled = self.__dict__.get('_compiled')
        if compiled is None or compiled[0] is not self.model:
            # a plain attribute: not a submodule (no second copy of the
            # model's keys or parameters)
            compiled = (self.model,
                        torch.compile(self.model, **self.compile_options))
            self.__dict__['_compiled'] = compiled
        return compiled[1]

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor,
                source_preprocessor) -> torch.Tensor:
        """The teacher's logits on ``inputs`` (normalised by
        ``source_preprocessor``, see ``normalize_input``)."""
        if not self.loaded:
            raise RuntimeError(
                'DeiT-LT: the teacher has no weights yet; call '
                'init_weights() or load_teacher() (mmengine\'s runner calls '
                'init_weights() before training).')
        self.model.eval()
        x = self.normalize_input(inputs, source_preprocessor)
        channels_last = self.channels_last
        if channels_last is None:
            channels_last = x.is_cuda
        if channels_last and x.dim() == 4:
            if not self._channels_last_done:
                self.model.to(memory_format=torch.channels_last)
                self._channels_last_done = True
            x = x.contiguous(memory_format=torch.channels_last)
        return self._forward_model()(x, mode='tensor')
