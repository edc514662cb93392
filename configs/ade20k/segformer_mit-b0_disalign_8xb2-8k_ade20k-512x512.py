# DisAlign stage 2 for SegFormer MiT-B0 on ADE20K 512x512 (not in the
# paper). Stage 1 is mmseg's segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py;
# the commands are those of fcn_r50-d8_disalign_4xb4-8k_ade20k-512x512.py.
# SegFormer has no auxiliary head; stage 2 uses the calibration's SGD recipe
# instead of SegFormer's AdamW.
_base_ = [
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    './disalign_stage2_ade20k.py',
]
model = dict(
    decode_head=dict(
        type='DisAlignSegformerHead',
        loss_decode={{_base_.stage2_loss_decode}}))
load_from = None  # the stage-1 checkpoint (required)
optim_wrapper = {{_base_.stage2_optim_wrapper}}
param_scheduler = {{_base_.stage2_param_scheduler}}
train_cfg = {{_base_.stage2_train_cfg}}
default_hooks = {{_base_.stage2_default_hooks}}
val_evaluator = {{_base_.stage2_evaluator}}
test_evaluator = {{_base_.stage2_evaluator}}
