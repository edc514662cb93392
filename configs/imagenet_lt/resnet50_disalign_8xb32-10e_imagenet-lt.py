# DisAlign stage 2 on ImageNet-LT, ResNet-50, dot-product head: the stage-1
# model frozen (BN statistics included), its fc kept and calibrated with the
# G-RW KL loss, rho 1.2; 10 epochs, SGD lr 0.1 cosine (restarted), batch
# 256, instance-balanced sampling (the paper's schedule).
# Paper: 51.3 top-1 (many 59.9 / medium 49.9 / few 31.8).
# load_from defaults to the last checkpoint of
#   bash tools/dist_train.sh \
#       configs/imagenet_lt/resnet50_8xb32-90e_imagenet-lt.py 8
# (another one: --cfg-options load_from=PATH).
_base_ = ['./resnet50_8xb32-90e_imagenet-lt.py']

runner_type = 'DisAlignRunner'
load_from = 'work_dirs/resnet50_8xb32-90e_imagenet-lt/epoch_90.pth'

model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(
            _delete_=True,
            type='GRWKLLoss',
            frequency_file=_base_.frequency_file,
            rho=1.2)))

# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
