# LT-Digits detection, DisAlign stage 2 as the paper trains it on LVIS
# (reproduction; mmlt's recipe is det_stage2.py): the stage-1 Mask R-CNN
# frozen, its RoI classifier calibrated (foreground logits only, from the
# identity) against the G-RW reference distribution of the per-category
# image counts, rho 0.8, uniform sampling. Compared with stage 1 only the bbox
# head's classifier and loss, the runner, the schedule and load_from change.
#   python tools/train.py configs/demo/det_stage1.py
#   python tools/train.py configs/demo/det_stage2_paper.py
# (a checkpoint file instead: --cfg-options load_from=STAGE1.pth)
_base_ = ['./det_stage1.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/det_stage1'
rho = 0.8  # G-RW strength: the paper's LVIS value
lr = 0.02
max_iters = 150
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(type='DisAlignLinear'),
            loss_cls=dict(
                _delete_=True,
                type='GRWKLLoss',
                frequency_file={{_base_.frequency_file}},
                rho=rho))))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(
    optimizer=dict(lr=lr, weight_decay=1e-4), clip_grad=None)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=20),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-4,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
