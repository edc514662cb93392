# LT-Digits segmentation, DisAlign stage 2 as the paper trains it on ADE20K
# (reproduction; mmlt's recipe is seg_stage2.py): the stage-1 FCN frozen, its
# conv_seg calibrated (from the identity) against the G-RW reference
# distribution of the per-pixel class frequencies, rho 0.3. Compared with
# stage 1 only the decode head's type and loss, the runner, the schedule,
# the batch and load_from change.
_base_ = ['./seg_stage1.py']

runner_type = 'DisAlignRunner'
load_from = 'work_dirs/demo/seg_stage1/iter_1800.pth'

model = dict(
    decode_head=dict(
        type='DisAlignFCNHead',
        loss_decode=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file={{_base_.frequency_file}},
            rho=0.3)),
    # The auxiliary head is frozen in stage 2: its loss could train nothing,
    # so it is dropped (the paper's weight 0) and its stage-1 weights are
    # reported as unused. Delete this line to keep it and its stock loss.
    auxiliary_head=None)

# Stage 1's longer schedule uses batch 4; stage 2 keeps batch 8.
train_dataloader = dict(batch_size=8)

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(optimizer=dict(lr=0.05, weight_decay=5e-4))
max_iters = 150
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
