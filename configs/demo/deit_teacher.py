# DeiT-LT demo, step 1: the CNN teacher on LT-Digits (1,088 training
# digits, 440 of class 0 down to 4 of class 9), trained as DeiT-LT's
# teachers are: LDAM loss + deferred re-weighting (DRW) + SAM, here a
# CIFAR ResNet-8 at the digits' native 28 px with a cosine classifier.
# The student config (deit_student.py) loads this run's last checkpoint.
#   python tools/train.py configs/demo/deit_teacher.py \
#       --work-dir work_dirs/demo/deit_teacher
_base_ = [
    'mmpretrain::_base_/default_runtime.py',
    '../_base_/datasets/lt_digits_cls.py'
]
custom_imports = dict(
    imports=['mmlt.classification'], allow_failed_imports=False)
default_scope = 'mmpretrain'

max_epochs = 30
drw_epoch = 24  # K (0-based): the last 6 epochs are re-weighted (LDAM: 160/200)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='CifarResNet', depth=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        # LDAM's normalised classifier: plain cosines, the loss scales by s
        type='CosineLinearClsHead',
        num_classes={{_base_.num_classes}},
        in_channels=64,
        scale=1.0,
        learnable_scale=False,
        # class counts come from the training set (DRWHook)
        loss=dict(type='LDAMLoss', max_margin=0.5, scale=30.0,
                  drw_beta=0.9999)))


# SGD + SAM; LDAM-DRW's schedule: linear warm-up, lr x0.01 at the DRW epoch
optim_wrapper = dict(
    type='SAMOptimWrapper',
    rho=0.05,
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.2, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='MultiStepLR', by_epoch=True, milestones=[drw_epoch],
         gamma=0.1),
]
custom_hooks = [dict(type='DRWHook', start_epoch=drw_epoch),
                dict(type='FiniteLossHook'), dict(type='RNGStateHook')]

train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                    max_keep_ckpts=1))
randomness = dict(seed=0)
