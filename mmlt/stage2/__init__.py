"""Stage 2 of the decoupled methods (DisAlign; cRT, LWS; the post-hoc logit
adjustment and tau-norm): ``DisAlignRunner``, the checks of the stage-1
checkpoint and of the training set against the frequency files, and the
class-balanced sampler. Built on ``mmlt.engine``, the run infrastructure
every mmlt run shares; the rules about a model's stage-2 parts are plain
torch, in ``mmlt.core.stage2_parts``."""
from ..core.stage2_parts import (STAGE2_PARTS, freeze_except_calibration,
                                 freeze_except_stage2, is_calibration_key,
                                 is_stage2_key, keep_norm_layers_in_eval,
                                 stage2_parts)
from .runner import NO_WEIGHT_DECAY_REASON, DisAlignRunner
from .samplers import ClassBalancedSampler
from .stage1_checkpoint import Stage1CheckpointHook, check_stage1_state_dict
from .training_set_checks import (check_frequency_classes,
                                  check_frequency_counts,
                                  dataset_class_counts, dataset_label_order)

__all__ = [
    'STAGE2_PARTS', 'NO_WEIGHT_DECAY_REASON', 'DisAlignRunner',
    'ClassBalancedSampler', 'Stage1CheckpointHook', 'check_stage1_state_dict',
    'is_stage2_key', 'is_calibration_key', 'stage2_parts',
    'freeze_except_stage2', 'freeze_except_calibration',
    'keep_norm_layers_in_eval', 'check_frequency_classes',
    'check_frequency_counts', 'dataset_class_counts', 'dataset_label_order'
]
