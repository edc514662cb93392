"""mmlt's adapter for mmpretrain 1.x: registers into ``mmpretrain.registry``.

Load it from a config with
``custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)``
and keep ``default_scope = 'mmpretrain'``.
"""
from mmlt.utils import check_toolbox_version

check_toolbox_version('mmengine')
check_toolbox_version('mmpretrain')

# registers mmlt's runners, hooks and sampler, for configs that name them
import mmlt.engine  # noqa: E402,F401
import mmlt.stage2  # noqa: E402,F401


from .backbones import CifarResNet  # noqa: E402
from .deit_lt import DeiTLTClassifier, DeiTLTClsHead  # noqa: E402
from .drw import DRWHook  # noqa: E402
from .ldam import LDAMLoss  # noqa: E402
from .sam import SAMOptimWrapper  # noqa: E402
from .teacher import DistillationTeacher  # noqa: E402
from .datasets import (CIFAR10LT, CIFAR100LT, ImageNetLT,  # noqa: E402
                       LongTailListDataset, cifar_lt_counts,
                       exponential_profile)
from .heads import (CosineLinearClsHead,  # noqa: E402
                    DisAlignCosineLinearClsHead, DisAlignLinearClsHead,
                    LogitAdjustedCosineLinearClsHead,
                    LogitAdjustedLinearClsHead,
                    LogitAdjustedVisionTransformerClsHead, LWSLinearClsHead,
                    RetrainedLinearClsHead, TauNormLinearClsHead,
                    logit_adjusted_head)
from .losses import GRWKLLoss  # noqa: E402
from .metrics import LongTailAccuracy, long_tail_accuracy  # noqa: E402
from .transforms import RandomShift  # noqa: E402

__all__ = [
    'GRWKLLoss', 'CifarResNet', 'CosineLinearClsHead',
    'DisAlignLinearClsHead', 'DisAlignCosineLinearClsHead',
    'LogitAdjustedLinearClsHead', 'LogitAdjustedCosineLinearClsHead',
    'LogitAdjustedVisionTransformerClsHead', 'logit_adjusted_head',
    'TauNormLinearClsHead', 'LWSLinearClsHead', 'RetrainedLinearClsHead',
    'LongTailListDataset', 'ImageNetLT', 'CIFAR10LT', 'CIFAR100LT',
    'exponential_profile', 'cifar_lt_counts', 'LongTailAccuracy',
    'long_tail_accuracy', 'DeiTLTClassifier', 'DeiTLTClsHead', 'DRWHook',
    'LDAMLoss', 'SAMOptimWrapper', 'DistillationTeacher', 'RandomShift'
]
