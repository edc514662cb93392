# LT-Digits classification, DisAlign stage 2 as the paper trains it on
# ImageNet-LT (reproduction): the stage-1 network frozen (BN statistics
# included), its fc kept and calibrated (per-class magnitude and margin,
# per-image confidence, the identity at the start) with the G-RW KL loss,
# rho 1.2, instance-balanced sampling over the whole training set.
# mmlt's recipe is cls_stage2.py; on training images that stage 1 has fitted
# this one learns to sharpen the logits rather than to correct them
# (docs/en/results.md).
#   python tools/train.py configs/demo/cls_stage1.py
#   python tools/train.py configs/demo/cls_stage2_paper.py
# (a checkpoint file instead: --cfg-options load_from=STAGE1.pth)
_base_ = ['./cls_stage1.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cls_stage1'
rho = 1.2  # G-RW strength: the paper's ImageNet-LT value
lr = 0.1
max_epochs = 10
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'

model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file={{_base_.frequency_file}},
            rho=rho)))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
