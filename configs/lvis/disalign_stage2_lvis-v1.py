# What every DisAlign stage-2 config on LVIS v1 shares (DisAlign, CVPR 2021:
# Mask R-CNN on LVIS v1, stage 2 = 9k iterations, lr 0.02, batch 16, G-RW
# rho 0.8, uniform sampling even after an RFS stage 1). A model config lists
# it after mmdet's stock config in `_base_`; mmengine forbids keys defined in
# two bases, so the settings that override the stock ones are `stage2_*`
# variables the model config assigns (see mask-rcnn_disalign.py).
custom_imports = dict(imports=['mmlt.detection'], allow_failed_imports=False)
runner_type = 'DisAlignRunner'

# Images per category of the LVIS v1 train set (LVIS's r / c / f is by image
# count), written once by
#   python tools/analysis/class_frequency.py lvis \
#       data/lvis_v1/annotations/lvis_v1_train.json \
#       -o data/lvis_v1/lvis_v1_train_frequency.json
# The file also holds instance counts: add count_kind='instances' to the
# loss to re-weight by those instead.
frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'

# In each bbox head: the frozen stage-1 classifier plus its calibration
# (the background logit is not calibrated), and the G-RW loss over the
# foreground classes with background weight 1.
stage2_cls_predictor = dict(type='DisAlignLinear')
stage2_cosine_cls_predictor = dict(type='DisAlignCosineLinear', scale=20.0)
stage2_loss_cls = dict(
    _delete_=True,
    type='GRWKLLoss',
    frequency_file=frequency_file,
    rho=0.8,
    loss_weight=1.0)

# Uniform (instance-balanced) sampling: mmdet's LVIS stage 1 wraps the set in
# ClassBalancedDataset (repeat factor sampling); stage 2 does not.
stage2_train_dataloader = dict(
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

stage2_max_iters = 9000
stage2_train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=stage2_max_iters,
    val_interval=stage2_max_iters)
# Only the calibration (alpha, beta, sigma) learns, without weight decay
# (DisAlignRunner: one rule for every task).
stage2_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
stage2_param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=stage2_max_iters,
        by_epoch=False,
        milestones=[6000, 8000],
        gamma=0.1)
]
stage2_default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=stage2_max_iters))
stage2_log_processor = dict(by_epoch=False)
