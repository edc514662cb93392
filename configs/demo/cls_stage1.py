# LT-Digits classification, stage 1: a ResNet-8 for CIFAR-sized images
# (CifarResNet, 16/32/64 channels, 78k parameters) trained from scratch with
# plain cross-entropy and instance-balanced sampling: the long-tailed
# baseline. Data: `python tools/dataset_converters/make_lt_digits.py`
# (1,088 train digits, 440 of class 0 down to 4 of class 9; balanced val and
# test, 30 per class), then the frequency file of the metric and of stage 2:
#   python tools/analysis/class_frequency.py list \
#       data/lt_digits/cls/lt_digits_train.txt \
#       --classes data/lt_digits/cls/classes.txt \
#       -o data/lt_digits/cls/image_frequency.json
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

data_root = 'data/lt_digits/cls/'
# Training images per class; the metric splits many (> 100) / medium / few
# (< 20) with it, and the stage-2 loss re-weights with it.
frequency_file = data_root + 'image_frequency.json'
num_classes = 10

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=num_classes,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

data_preprocessor = dict(
    num_classes=num_classes,
    # MNIST's mean / std (0.1307, 0.3081) in 0..255; the PNGs are grey RGB
    mean=[33.3, 33.3, 33.3],
    std=[78.6, 78.6, 78.6],
    to_rgb=False)

dataset_type = 'LongTailListDataset'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # no flips: a mirrored digit is not the same digit
    dict(type='RandomCrop', crop_size=28, padding=2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lt_digits_train.txt',
        classes=data_root + 'classes.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lt_digits_val.txt',
        classes=data_root + 'classes.txt',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=100,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='lt_digits_test.txt',
        classes=data_root + 'classes.txt',
        pipeline=test_pipeline))
val_evaluator = dict(type='LongTailAccuracy', frequency_file=frequency_file)
test_evaluator = val_evaluator

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
