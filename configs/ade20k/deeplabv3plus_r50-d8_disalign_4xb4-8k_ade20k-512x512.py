# DisAlign stage 2 for DeepLabV3+ R50-D8 (paper: mIoU 43.9 -> 44.4, mAcc 54.9 -> 57.2) on ADE20K 512x512.
# Stage 1 is mmseg's deeplabv3plus/deeplabv3plus_r50-d8_4xb4-160k_ade20k-512x512.py; the commands are those of
# fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py with this config.
_base_ = [
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-160k_ade20k-512x512.py',
    './disalign_stage2_ade20k.py',
]
model = dict(
    decode_head=dict(
        type='DisAlignDepthwiseSeparableASPPHead',
        loss_decode={{_base_.stage2_loss_decode}}),
    # Frozen in stage 2, the auxiliary head's loss could train nothing: it
    # is dropped (the paper's weight 0). Remove this line to keep it.
    auxiliary_head=None)
load_from = None  # the stage-1 checkpoint (required)
optim_wrapper = {{_base_.stage2_optim_wrapper}}
param_scheduler = {{_base_.stage2_param_scheduler}}
train_cfg = {{_base_.stage2_train_cfg}}
default_hooks = {{_base_.stage2_default_hooks}}
val_evaluator = {{_base_.stage2_evaluator}}
test_evaluator = {{_base_.stage2_evaluator}}
