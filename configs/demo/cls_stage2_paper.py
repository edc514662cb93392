# LT-Digits classification, DisAlign stage 2 as the paper trains it on
# ImageNet-LT (reproduction): the stage-1 network frozen (BN statistics
# included), its fc kept and calibrated (per-class magnitude and margin,
# per-image confidence, the identity at the start) with the G-RW KL loss,
# rho 1.2, instance-balanced sampling over the whole training set.
# mmlt's recipe is cls_stage2.py; on training images that stage 1 has fitted
# this one learns to sharpen the logits rather than to correct them
# (docs/en/results.md).
_base_ = ['./cls_stage1.py']

runner_type = 'DisAlignRunner'
load_from = 'work_dirs/demo/cls_stage1/epoch_60.pth'

model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file={{_base_.frequency_file}},
            rho=1.2)))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
