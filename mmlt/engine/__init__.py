"""mmengine-level parts shared by every toolbox (no toolbox imports):
compatibility fixes and DisAlign's stage-2 runner."""
from .compat import apply_compat
from .stage2 import (DisAlignRunner, check_frequency_classes,
                     check_stage1_state_dict, freeze_except_calibration,
                     keep_norm_layers_in_eval)

apply_compat()

__all__ = [
    'apply_compat', 'DisAlignRunner', 'check_frequency_classes',
    'check_stage1_state_dict', 'freeze_except_calibration',
    'keep_norm_layers_in_eval'
]
