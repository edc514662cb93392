# ResNet-32 for CIFAR-LT (CifarResNet: 3 stages of 5 basic blocks, 16/32/64
# channels) and LDAM-DRW's CIFAR-LT schedule: 200 epochs, batch 128, SGD lr
# 0.1, momentum 0.9, weight decay 2e-4, linear warm-up over 5 epochs, lr
# x0.01 at epochs 160 and 180. Model and schedule only, the base of the
# stage-1 configs of configs/cifar_lt (resnet32_1xb128-200e_cifar10-lt-ir100.py,
# ...), each of which combines it with a dataset config of
# configs/_base_/datasets (cifar10-lt-ir100_bs128.py, ...).
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=32),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[160, 180],
         gamma=0.01),
]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
