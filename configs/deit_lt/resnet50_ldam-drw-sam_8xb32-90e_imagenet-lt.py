# DeiT-LT's teacher for ImageNet-LT: ResNet-50 with a normalised (cosine)
# classifier, LDAM loss (max margin 0.3) + DRW (from epoch 60) + SAM with
# rho 0.05 -> 0.1 (epoch 5) -> 0.5 (epoch 60), SGD lr 0.2 (batch 256),
# cosine schedule, weight decay 2e-4, 90 epochs: the ImageNet-LT recipe of
# Rangwani et al. (NeurIPS 2022).
#   bash tools/dist_train.sh configs/deit_lt/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt.py 8
# Data: mmpretrain's data/imagenet plus ImageNet_LT_{train,val,test}.txt
# (mmlt.classification.ImageNetLT); the metric's frequency file:
#   python tools/analysis/class_frequency.py list \
#       data/imagenet/ImageNet_LT_train.txt \
#       -o data/imagenet/ImageNet_LT_train_freq.json --classes mmpretrain.ImageNet
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

data_root = 'data/imagenet'
num_classes = 1000
max_epochs = 90
drw_epoch = 60
# training images per class; many (> 100) / medium / few (< 20) by count
frequency_file = 'data/imagenet/ImageNet_LT_train_freq.json'

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ),
                  style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='CosineLinearClsHead',
        num_classes=num_classes,
        in_channels=2048,
        scale=1.0,
        learnable_scale=False,
        loss=dict(type='LDAMLoss', max_margin=0.3, scale=30.0,
                  drw_beta=0.9999)))

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

dataset_type = 'ImageNetLT'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=5,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='train',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=5,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='val',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=5,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test',
        pipeline=test_pipeline))
val_evaluator = dict(type='LongTailAccuracy', frequency_file=frequency_file,
                     topk=(1, 5), per_class_results=True)
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='SAMOptimWrapper',
    rho=0.05,
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
         end=max_epochs),
    # SAM's rho lives in the parameter groups: 0.05, x2 from epoch 5,
    # x5 from epoch 60
    dict(type='MultiStepParamScheduler', param_name='rho', milestones=[5],
         gamma=2.0, by_epoch=True),
    dict(type='MultiStepParamScheduler', param_name='rho', milestones=[60],
         gamma=5.0, by_epoch=True),
]
custom_hooks = [dict(type='DRWHook', start_epoch=drw_epoch)]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
