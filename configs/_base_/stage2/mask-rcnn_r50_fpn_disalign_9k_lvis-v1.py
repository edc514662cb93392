# The DisAlign stage 2 of the LVIS v1 Mask R-CNN configs (DisAlign, CVPR
# 2021: 9k iterations, lr 0.02, batch 16, G-RW rho 0.8, uniform sampling even
# after an RFS stage 1): mmdet's stock stage-1 config plus everything stage 2
# changes. Everything but the classifiers' calibration is frozen
# (DisAlignRunner); a stage-1 checkpoint loads with only
# `...fc_cls.calibration.*` new.
#
# A base, not run itself: configs/lvis/mask-rcnn_disalign.py (R50-FPN),
# mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py, the cosine one and cRT inherit
# it and name their stage 1 (`load_from`). The Cascade Mask R-CNN one repeats
# these settings on the cascade stage-1 config (mmengine allows one stage-1
# config per chain).
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# Images per category of the LVIS v1 train set (LVIS's r / c / f is by image
# count), written by tools/analysis/class_frequency.py lvis. The file also
# holds instance counts: add count_kind='instances' to the loss to re-weight
# by those instead.
frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'
model = dict(
    # every weight comes from the stage-1 checkpoint: no ImageNet download
    backbone=dict(init_cfg=None),
    roi_head=dict(
        bbox_head=dict(
            # the frozen stage-1 classifier plus its calibration (the
            # background logit is not calibrated)
            cls_predictor_cfg=dict(type='DisAlignLinear'),
            # G-RW over the foreground classes, background weight 1
            loss_cls=dict(
                _delete_=True,
                type='GRWKLLoss',
                frequency_file=frequency_file,
                rho=0.8,
                loss_weight=1.0))))

# Uniform (instance-balanced) sampling: mmdet's LVIS stage 1 wraps the set in
# ClassBalancedDataset (repeat factor sampling); stage 2 does not.
train_dataloader = dict(
    batch_size=2,  # x 8 GPUs = 16
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        _delete_=True,
        type='LVISV1Dataset',
        data_root='data/lvis_v1/',
        ann_file='annotations/lvis_v1_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(
                type='RandomChoiceResize',
                scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                        (1333, 768), (1333, 800)],
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackDetInputs')
        ]))

max_iters = 9000
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[6000, 8000],
        gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
# mmdet's LVISMetric plus every category's box / mask AP in
# per_class_det.csv / .json next to the log
val_evaluator = dict(type='LongTailLVISMetric', per_class_results=True)
test_evaluator = val_evaluator
