# DisAlign stage 2 on ImageNet-LT, ResNet-50, dot-product head: the stage-1
# model frozen (BN statistics included), its fc kept and calibrated with the
# G-RW KL loss, rho 1.2; 10 epochs, SGD lr 0.1 cosine (restarted), batch
# 256, instance-balanced sampling (the paper's schedule).
# Paper: 51.3 top-1 (many 59.9 / medium 49.9 / few 31.8).
# Stage 1, then stage 2 (it loads the latest checkpoint of stage 1's work
# dir; a checkpoint file instead: --cfg-options load_from=STAGE1.pth):
#   bash tools/dist_train.sh \
#       configs/imagenet_lt/resnet50_8xb32-90e_imagenet-lt.py 8
#   bash tools/dist_train.sh \
#       configs/imagenet_lt/resnet50_disalign_8xb32-10e_imagenet-lt.py 8
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnet50_8xb32-90e_imagenet-lt'
rho = 1.2  # G-RW: the reference distribution's re-weighting strength
lr = 0.1  # batch 256 (8 GPUs x 32)
max_epochs = 10
# ======================= Unmodified in most cases ===========================

runner_type = 'DisAlignRunner'
model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file=_base_.frequency_file,
            rho=rho)))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
