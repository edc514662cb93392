# LT-Digits segmentation, stage 1: an FCN with a small ResNet-18 trained from
# scratch with plain cross-entropy (the long-tailed baseline). Data: run
# `python tools/dataset_converters/make_lt_digits.py` (the demo does).
# Batch 4 for 1,800 iterations, chosen on val (the only split): within the
# demo's CPU budget, the schedule whose tail digits are found at all (batch 8
# for 900 iterations found none; docs/en/results.md).
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmlt.segmentation'], allow_failed_imports=False)

data_root = 'data/lt_digits/seg/'
classes = ('background', 'digit_0', 'digit_1', 'digit_2', 'digit_3',
           'digit_4', 'digit_5', 'digit_6', 'digit_7', 'digit_8', 'digit_9')
palette = [[40, 40, 40], [230, 25, 75], [60, 180, 75], [255, 225, 25],
           [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
           [240, 50, 230], [210, 245, 60], [250, 190, 212]]
# Per-pixel class frequencies of the train labels (the demo writes it with
# tools/analysis/class_frequency.py); its rank split gives head/body/tail.
frequency_file = data_root + 'pixel_frequency.json'

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(96, 96)),
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=128,
        channels=64,
        num_classes=len(classes),
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=64,
        channels=32,
        num_classes=len(classes),
        norm_cfg=norm_cfg))

# ADE20K's layout and label convention (0 = unlabeled, reduced away); mmseg's
# ADE20KDataset only takes ADE20K's own class names, so the base class reads it.
dataset_type = 'BaseSegDataset'
ade20k_format = dict(img_suffix='.jpg', seg_map_suffix='.png', reduce_zero_label=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    # no flips: a mirrored digit is not the same digit
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=dict(classes=classes, palette=palette),
        **ade20k_format,
        data_prefix=dict(
            img_path='images/training', seg_map_path='annotations/training'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=dict(classes=classes, palette=palette),
        **ade20k_format,
        data_prefix=dict(
            img_path='images/validation',
            seg_map_path='annotations/validation'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='LongTailIoUMetric',
    iou_metrics=['mIoU'],
    frequency_file=frequency_file,
    per_class_results=True)  # per_class_seg.csv / .json next to the log
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
max_iters = 1800
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False,
                    interval=max_iters))
# stop on a NaN / inf loss; let --resume repeat the interrupted run exactly
custom_hooks = [dict(type='FiniteLossHook'), dict(type='RNGStateHook')]
randomness = dict(seed=0)
