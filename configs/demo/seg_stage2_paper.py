# LT-Digits segmentation, DisAlign stage 2 as the paper trains it on ADE20K
# (reproduction; mmlt's recipe is seg_stage2.py): the stage-1 FCN frozen, its
# conv_seg calibrated (from the identity) against the G-RW reference
# distribution of the per-pixel class frequencies, rho 0.3. Compared with
# stage 1 only the decode head's type and loss, the runner, the schedule,
# the batch and load_from change.
#   python tools/train.py configs/demo/seg_stage1.py
#   python tools/train.py configs/demo/seg_stage2_paper.py
# (a checkpoint file instead: --cfg-options load_from=STAGE1.pth)
_base_ = ['./seg_stage1.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/seg_stage1'
rho = 0.3  # G-RW strength: the paper's ADE20K value
lr = 0.05
max_iters = 150
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'

model = dict(
    decode_head=dict(
        type='DisAlignFCNHead',
        loss_decode=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file={{_base_.frequency_file}},
            rho=rho)),
    # The auxiliary head is frozen in stage 2: its loss could train nothing,
    # so it is dropped (the paper's weight 0) and its stage-1 weights are
    # reported as unused. Delete this line to keep it and its stock loss.
    auxiliary_head=None)

# Stage 1's longer schedule uses batch 4; stage 2 keeps batch 8.
train_dataloader = dict(batch_size=8)

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(optimizer=dict(lr=lr, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
