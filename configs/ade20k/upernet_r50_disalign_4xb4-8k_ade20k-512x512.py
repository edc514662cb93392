# DisAlign stage 2 for UPerNet R50 (not in the paper) on ADE20K 512x512.
# Stage 1 is mmseg's upernet/upernet_r50_4xb4-160k_ade20k-512x512.py; the commands are those of
# fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py with this config.
_base_ = [
    'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    './disalign_stage2_ade20k.py',
]
model = dict(
    decode_head=dict(
        type='DisAlignUPerHead',
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
