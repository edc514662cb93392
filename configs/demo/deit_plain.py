# DeiT-LT demo, the baseline: a plain DeiT (tiny ViT, CLS token only) trained
# on LT-Digits without a teacher, with the student's data, augmentation
# (Mixup / CutMix, label smoothing 0.1) and schedule. deit_student.py
# inherits everything here and adds the DIST token, the teacher and DRW.
#   python tools/train.py configs/demo/deit_plain.py
# (work_dirs/deit_plain, the run deit_plain_logit-adjustment.py loads)
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/datasets/lt_digits_cls.py'
]
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

img_size = 32  # the 28 px digits upsampled (bicubic): 4x4 patches of 8 px
max_epochs = 80
# a tiny ViT: 4 layers, 64 dims, 2 heads (0.2M parameters)
embed_dims = 64
vit_arch = dict(
    embed_dims=embed_dims, num_layers=4, num_heads=2,
    feedforward_channels=4 * embed_dims)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch=vit_arch,
        img_size=img_size,
        patch_size=8,
        drop_path_rate=0.0),
    neck=None,
    head=dict(
        type='VisionTransformerClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=embed_dims,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomShift', padding=2),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# DeiT's AdamW recipe (lr raised for the tiny model and batch), warm-up then
# cosine
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=2e-3, weight_decay=0.05, eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.dist_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=3,
         end=max_epochs)
]

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
