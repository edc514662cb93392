# DisAlign stage 2 for Cascade Mask R-CNN R50-FPN on LVIS v1: the RoI
# classifier of every stage calibrated (its own alpha, beta, sigma) and
# trained with the G-RW loss; box regression and the mask head frozen.
#
# Stage 1: cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py. Then
#   tools/dist_train.sh configs/lvis/cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py 8 \
#       --cfg-options load_from=STAGE1_CASCADE.pth
# The stage-1 config plus the stage-2 settings of mask-rcnn_disalign.py
# (repeated here: mmengine allows one stage-1 config per chain).
_base_ = './cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(
        # A list replaces the stage-1 list whole (no merge, so no
        # `_delete_` in it): the heads of the stage-1 config with the
        # calibrated classifier and the G-RW loss.
        bbox_head=[
            dict(
                head,
                cls_predictor_cfg=dict(type='DisAlignLinear'),
                loss_cls=dict(
                    type='GRWKLLoss',
                    frequency_file=frequency_file,
                    rho=0.8,
                    loss_weight=1.0))
            for head in _base_.model.roi_head.bbox_head
        ]))
load_from = None  # the stage-1 checkpoint (required)

# as mask-rcnn_disalign.py: uniform sampling, 9k iterations, lr 0.02
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
