# DisAlign stage 2 for Mask R-CNN R50-FPN on LVIS v1 (paper, public-code
# runs, box / mask AP: baseline 18.8 / 18.3, DisAlign 21.9 / 21.3).
#
# Stage 1 is a stock mmdet model, trained with mmdet's
# configs/lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py (with RFS) or
# mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py here (without RFS). Then, once,
# the class frequencies:
#   python tools/analysis/class_frequency.py lvis \
#       data/lvis_v1/annotations/lvis_v1_train.json \
#       -o data/lvis_v1/lvis_v1_train_frequency.json
# and stage 2 (8 GPUs x 2 images):
#   tools/dist_train.sh configs/lvis/mask-rcnn_disalign.py 8 \
#       --cfg-options load_from=STAGE1.pth
#   tools/dist_test.sh configs/lvis/mask-rcnn_disalign.py \
#       work_dirs/mask-rcnn_disalign/iter_9000.pth 8
# Everything but the classifiers' calibration is frozen (DisAlignRunner);
# the stage-1 checkpoint loads with only `...fc_cls.calibration.*` new.
#
# This config is the stock stage-1 config plus everything stage 2 changes
# (DisAlign, CVPR 2021: 9k iterations, lr 0.02, batch 16, G-RW rho 0.8,
# uniform sampling even after an RFS stage 1). The other Mask R-CNN stage-2
# configs here inherit it; the Cascade Mask R-CNN one repeats its settings on
# the cascade stage-1 config.
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# Images per category of the LVIS v1 train set (LVIS's r / c / f is by image
# count), written by the class_frequency.py command above. The file also
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
load_from = None  # the stage-1 checkpoint (required)

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
