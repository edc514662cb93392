# DeiT-LT's teacher for CIFAR-10-LT (imbalance 100): a CIFAR ResNet-32 with
# LDAM's normalised (cosine) classifier, trained with LDAM loss + deferred
# re-weighting + SAM, the recipe of Rangwani et al. (NeurIPS 2022, "Escaping
# saddle points", the teachers of DeiT-LT): 200 epochs, batch 128, SGD lr
# 0.1 with 5 warm-up epochs and x0.01 at 160 and 180, weight decay 2e-4,
# DRW (effective number, beta 0.9999) from epoch 160, SAM rho 0.8.
#   python tools/train.py configs/deit_lt/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py
# The student configs load the latest checkpoint of work_dirs/<this
# config's name>, the run's work dir.
# CIFAR-10 (python version) in data/cifar10/cifar-10-batches-py.
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

dataset_type = 'CIFAR10LT'
data_root = 'data/cifar10'
num_classes = 10
imbalance_ratio = 100
max_epochs = 200
drw_epoch = 160  # 0-based: epochs 161-200 are re-weighted
# DeiT-LT's head / medium / tail classes of CIFAR-10-LT (index ranges)
class_groups = dict(many=(0, 3), medium=(3, 7), few=(7, 10))

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=32),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='CosineLinearClsHead',
        num_classes=num_classes,
        in_channels=64,
        scale=1.0,  # plain cosines: LDAM scales them by s = 30
        learnable_scale=False,
        # class counts: from the training set (DRWHook)
        loss=dict(type='LDAMLoss', max_margin=0.5, scale=30.0,
                  drw_beta=0.9999)))

data_preprocessor = dict(
    num_classes=num_classes,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)  # CIFAR arrays are RGB

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        imbalance_ratio=imbalance_ratio,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',  # balanced
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='LongTailAccuracy', class_groups=class_groups,
                     per_class_results=True)
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='SAMOptimWrapper',
    rho=0.8,
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    # LDAM-DRW: lr * epoch / 5 over the first 5 epochs
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=4),
    dict(type='MultiStepLR', by_epoch=True, milestones=[160, 180],
         gamma=0.01),
]
custom_hooks = [dict(type='DRWHook', start_epoch=drw_epoch)]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
randomness = dict(seed=0)
