# DisAlign stage 1 on ImageNet-LT: ResNet-50 from scratch, plain CE,
# instance-balanced sampling; 90 epochs, SGD lr 0.1 (batch 256 = 8 x 32),
# cosine, weight decay 5e-4 (the paper's schedule). Paper baseline:
# 41.6 top-1 (many 64.0 / medium 33.8 / few 5.8).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    '../_base_/datasets/imagenet-lt_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256_coslr.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

max_epochs = 90
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
# stage 2 loads the latest checkpoint of this run's work dir; keep the disk
# use bounded.
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
