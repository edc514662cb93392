# DisAlign stage 2 for the CIFAR-LT ResNet-32 (the stage-1 model and
# schedule, ../stage1/resnet32_1xb128-200e_cifar-lt.py, which it inherits):
# the stage-1 model frozen, its fc calibrated with the G-RW KL loss on the
# subset's counts. rho 1.2 is the paper's ImageNet-LT dot-product value (it
# gives no CIFAR value); 10 epochs, SGD lr 0.1 cosine, as the ImageNet-LT
# stage 2. Model and schedule only, the base of the stage-2 configs of
# configs/cifar_lt: each combines it with a dataset config of
# configs/_base_/datasets, gives the loss that dataset's `class_counts` and
# names its stage-1 run (e.g. resnet32_disalign_1xb128-10e_cifar10-lt-ir100.py).
_base_ = ['../stage1/resnet32_1xb128-200e_cifar-lt.py']

runner_type = 'DisAlignRunner'

model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(_delete_=True, type='GRWKLLoss', rho=1.2)))

max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = dict(
    _delete_=True,
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
