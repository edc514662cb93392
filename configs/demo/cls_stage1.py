# LT-Digits classification, stage 1: a ResNet-8 for CIFAR-sized images
# (CifarResNet, 16/32/64 channels, 78k parameters) trained from scratch with
# plain cross-entropy and instance-balanced sampling: the long-tailed
# baseline. The data, its frequency file and the metric:
# ../_base_/datasets/lt_digits_cls.py.
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/datasets/lt_digits_cls.py'
]
custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

# 60 epochs, chosen on LT-Digits val (seed 0): top-1 60.7 after 20 epochs,
# 82.3 after 40, 87.0 after 60; the tail classes need the longer schedule.
max_epochs = 60
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                    max_keep_ckpts=1))
# stop on a NaN / inf loss; let --resume repeat the interrupted run exactly
custom_hooks = [dict(type='FiniteLossHook'), dict(type='RNGStateHook')]
randomness = dict(seed=0)
