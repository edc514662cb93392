# LT-Digits detection, stage 1: a small Mask R-CNN (ResNet-18 at 1/4 width,
# three stages, FPN with 32 channels) trained from scratch with plain
# cross-entropy and instance-balanced sampling: the long-tailed baseline.
# Data in LVIS v1 format: `python tools/dataset_converters/make_lt_digits.py`
# (the demo does), evaluated with mmdet's LVISMetric (box and mask AP, APr,
# APc, APf).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)

data_root = 'data/lt_digits/det/'
classes = ('digit_0', 'digit_1', 'digit_2', 'digit_3', 'digit_4', 'digit_5',
           'digit_6', 'digit_7', 'digit_8', 'digit_9')
# Per-category image counts of the train json, written by
#   python tools/analysis/class_frequency.py lvis \
#       data/lt_digits/det/annotations/lvis_v1_train.json \
#       -o data/lt_digits/det/lvis_v1_train_frequency.json
# (read by stage 2's G-RW loss).
frequency_file = data_root + 'lvis_v1_train_frequency.json'

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(pad_size_divisor=16),
    backbone=dict(
        depth=18,
        num_stages=3,
        stem_channels=16,
        base_channels=16,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(0, 1, 2),
        # from scratch: BN learns, nothing frozen, nothing to download
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[16, 32, 64], out_channels=32, num_outs=3),
    rpn_head=dict(
        in_channels=32,
        feat_channels=32,
        # digits are 6-30 px (median 20), upright and mostly taller than wide
        anchor_generator=dict(
            scales=[5], ratios=[1.0, 2.0, 3.0], strides=[4, 8, 16])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32, featmap_strides=[4, 8, 16]),
        bbox_head=dict(
            in_channels=32, fc_out_channels=128, num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=32, featmap_strides=[4, 8, 16]),
        mask_head=dict(
            num_convs=2,
            in_channels=32,
            conv_out_channels=32,
            num_classes=len(classes))),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=100),
        # LVIS keeps low-scoring detections (mmdet's LVIS configs: 1e-4, up
        # to 300 per image); 20 is plenty for canvases with 1-3 digits, and
        # pasting masks one by one is what a CPU test spends its time on.
        rcnn=dict(score_thr=0.0001, max_per_img=20)))

dataset_type = 'LVISV1Dataset'
metainfo = dict(classes=classes)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    # no flips: a mirrored digit is not the same digit
    dict(type='RandomResize', scale=(96, 96), ratio_range=(0.8, 1.25),
         keep_ratio=True),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/lvis_v1_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmdet's LVISMetric plus the per-category file (per_class_det.csv / .json)
val_evaluator = dict(
    type='LongTailLVISMetric',
    ann_file=data_root + 'annotations/lvis_v1_val.json',
    metric=['bbox', 'segm'],
    per_class_results=True)
test_evaluator = val_evaluator

max_iters = 400
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.04, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-4,
         by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters),
    visualization=dict(type='DetVisualizationHook', draw=False))
log_processor = dict(by_epoch=False)
# stop on a NaN / inf loss; let --resume repeat the interrupted run exactly
custom_hooks = [dict(type='FiniteLossHook'), dict(type='RNGStateHook')]
randomness = dict(seed=0)
