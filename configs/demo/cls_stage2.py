# LT-Digits classification, DisAlign stage 2: the stage-1 network frozen
# (BN statistics included), its fc kept and calibrated (per-class magnitude
# and margin, per-image confidence) with the G-RW KL loss on the training
# frequencies. Compared with stage 1 only the head type and loss, the
# sampler, the runner, the schedule and load_from change.
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
            rho=1.5)))
# Class-balanced sampling (a class uniformly, then one of its images) and
# rho 1.5, chosen on LT-Digits val (seed 0, from the 60-epoch stage 1):
# instance sampling, rho 1.0 / 1.2 / 1.5 / 2.0: top-1 90.0 / 90.3 / 90.7 /
# 91.0; class-balanced, rho 0 / 1.0 / 1.2 / 1.5 / 2.0: 90.0 / 91.3 / 91.7 /
# 92.3 / 92.3. The tail images of a small training set are seen a few
# times per epoch only with instance sampling, and the calibration learns
# from them.
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassBalancedSampler'))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=0.1, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(checkpoint=dict(interval=max_epochs))
