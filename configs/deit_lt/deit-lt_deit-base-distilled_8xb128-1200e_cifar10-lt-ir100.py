# DeiT-LT on CIFAR-10-LT (imbalance 100): a distilled DeiT-B/16 student at
# 224 px (mmpretrain's deit-base-distilled settings; CIFAR images upsampled
# by RandomResizedCrop as in DeiT-LT's code) with the frozen ResNet-32
# LDAM-DRW-SAM teacher at 32 px in the loop: the teacher sees the student's
# RandAugment / random-erasing / Mixup / CutMix batch resized (bicubic) to
# 32 px and re-normalised to its CIFAR mean / std; the DIST head learns its
# class. 1200 epochs, DRW from epoch 1100 (Mixup / CutMix off, plain CE for
# CLS, effective-number weights for DIST), AdamW lr 5e-4 x 1024 / 512,
# cosine, 5 warm-up epochs, wd 0.05, batch 8 x 128 = 1024.
# Published (average of the heads, overall (head / mid / tail); the
# public checkpoints used a PaCo + SAM teacher): 87.5 (94.5 / 84.1 / 85.0).
#   python tools/train.py configs/deit_lt/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py
#   bash tools/dist_train.sh configs/deit_lt/deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py 8
_base_ = ['mmpretrain::deit/deit-base-distilled_16xb64_in1k.py']
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)

dataset_type = 'CIFAR10LT'
data_root = 'data/cifar10'
num_classes = 10
imbalance_ratio = 100
class_groups = dict(many=(0, 3), medium=(3, 7), few=(7, 10))
teacher_config = \
    '{{ fileDirname }}/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py'
# the teacher run's work dir (its latest checkpoint), or a checkpoint file
teacher_checkpoint = 'work_dirs/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100'
max_epochs = 1200
drw_epoch = 1100  # 0-based: epochs 1101-1200 (DeiT-LT's --drw 1100)
warmup_epochs = 5

model = dict(
    type='DeiTLTClassifier',
    backbone=dict(drop_path_rate=0.1),  # arch deit-base, 224 px, patch 16
    head=dict(
        _delete_=True,
        type='DeiTLTClsHead',
        num_classes=num_classes,
        in_channels=768,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        cls_weight=0.5,
        dist_weight=0.5,
        drw_beta=0.9999),
    teacher=dict(
        config=teacher_config, checkpoint=teacher_checkpoint, img_size=32))

# CIFAR arrays are RGB: ImageNet's RGB mean / std, no channel flip
rgb_mean = [123.675, 116.28, 103.53]
rgb_std = [58.395, 57.12, 57.375]
data_preprocessor = dict(
    num_classes=num_classes, mean=rgb_mean, std=rgb_std, to_rgb=False)

train_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in rgb_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=rgb_mean,
        fill_std=rgb_std),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=128,
    num_workers=8,
    # DeiT's repeated augmentation
    sampler=dict(type='RepeatAugSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        imbalance_ratio=imbalance_ratio,
        pipeline=train_pipeline))
val_dataloader = dict(
    _delete_=True,
    batch_size=128,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, split='test',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# one test run, three heads: lt_cls/*, lt_dist/*, lt_avg/*
val_evaluator = [
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='cls_score', prefix='lt_cls'),
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='dist_score', prefix='lt_dist'),
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='pred_score', prefix='lt_avg'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 1024 / 512),
    paramwise_cfg=dict(custom_keys={'.dist_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=warmup_epochs, end=max_epochs)
]
custom_hooks = [dict(type='DRWHook', start_epoch=drw_epoch)]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=50)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=50, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=1024)
