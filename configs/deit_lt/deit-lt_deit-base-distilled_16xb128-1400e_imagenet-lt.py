# DeiT-LT on ImageNet-LT: a distilled DeiT-B/16 student at 224 px with the
# frozen ResNet-50 LDAM-DRW-SAM teacher, also at 224 px (no resize; both use
# ImageNet's mean / std). mmpretrain's deit-base-distilled recipe
# (RandAugment, random erasing, Mixup 0.8 / CutMix 1.0, label smoothing 0.1,
# AdamW wd 0.05, grad clip 5) with DeiT-LT's schedule: 1400 epochs, DRW from
# epoch 1200, lr 5e-4 x 2048 / 512, cosine, 5 warm-up epochs, batch
# 16 x 128 = 2048. Many / medium / few by training count (> 100, < 20),
# from the frequency file of the teacher config.
# Published (average of the heads, overall (many / medium / few); PaCo + SAM
# teacher): 59.1 (66.6 / 58.3 / 40.0).
#   bash tools/dist_train.sh configs/deit_lt/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt.py 8
#   bash tools/dist_train.sh configs/deit_lt/deit-lt_deit-base-distilled_16xb128-1400e_imagenet-lt.py 16
_base_ = ['mmpretrain::deit/deit-base-distilled_16xb64_in1k.py']
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)

dataset_type = 'ImageNetLT'
data_root = 'data/imagenet'
num_classes = 1000
frequency_file = 'data/imagenet/ImageNet_LT_train_freq.json'
teacher_config = '{{ fileDirname }}/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt.py'
# the teacher run's work dir (its latest checkpoint), or a checkpoint file
teacher_checkpoint = 'work_dirs/resnet50_ldam-drw-sam_8xb32-90e_imagenet-lt'
max_epochs = 1400
drw_epoch = 1200
warmup_epochs = 5

model = dict(
    type='DeiTLTClassifier',
    backbone=dict(drop_path_rate=0.1),
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
        config=teacher_config, checkpoint=teacher_checkpoint, img_size=None))

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(_delete_=True, type='RepeatAugSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=_base_.train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=_base_.test_pipeline))
test_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=_base_.test_pipeline))
val_evaluator = [
    dict(type='LongTailAccuracy', per_class_results=True, frequency_file=frequency_file,
         pred_key='cls_score', prefix='lt_cls'),
    dict(type='LongTailAccuracy', per_class_results=True, frequency_file=frequency_file,
         pred_key='dist_score', prefix='lt_dist'),
    dict(type='LongTailAccuracy', per_class_results=True, frequency_file=frequency_file,
         pred_key='pred_score', prefix='lt_avg'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(lr=5e-4 * 2048 / 512),
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
auto_scale_lr = dict(base_batch_size=2048)
