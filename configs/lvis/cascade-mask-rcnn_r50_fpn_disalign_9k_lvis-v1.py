# DisAlign stage 2 for Cascade Mask R-CNN R50-FPN on LVIS v1: the RoI
# classifier of every stage calibrated (its own alpha, beta, sigma) and
# trained with the G-RW loss; box regression and the mask head frozen.
#
# Stage 1, then stage 2 (a checkpoint file instead of the stage-1 run:
# --cfg-options load_from=STAGE1_CASCADE.pth):
#   tools/dist_train.sh configs/lvis/cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py 8
#   tools/dist_train.sh configs/lvis/cascade-mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py 8
# The stage-1 config plus the stage-2 settings of
# ../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py (repeated here:
# mmengine allows one stage-1 config per chain).
_base_ = './cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cascade-mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1'
# images per category of the train set (tools/analysis/class_frequency.py)
frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'
rho = 0.8  # G-RW: the reference distribution's re-weighting strength
lr = 0.02  # batch 16 (8 GPUs x 2 images)
max_iters = 9000  # lr x0.1 at 2/3 and 8/9 of it (6k and 8k of 9k)
# ======================= Unmodified in most cases ===========================

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
                    rho=rho,
                    loss_weight=1.0))
            for head in _base_.model.roi_head.bbox_head
        ]))

# as the Mask R-CNN stage 2: uniform sampling, the paper's schedule
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
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[max_iters * 2 // 3, max_iters * 8 // 9],
        gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
# mmdet's LVISMetric plus every category's box / mask AP in
# per_class_det.csv / .json next to the log
val_evaluator = dict(type='LongTailLVISMetric', per_class_results=True)
test_evaluator = val_evaluator
