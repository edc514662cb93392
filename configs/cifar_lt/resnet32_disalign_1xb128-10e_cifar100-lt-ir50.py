# DisAlign stage 2 on CIFAR100-LT (imbalance 50): the stage-1 ResNet-32
# frozen, its fc calibrated with the G-RW KL loss on the subset's counts.
# rho 1.2 is the paper's ImageNet-LT dot-product value (it gives no CIFAR
# value); 10 epochs, SGD lr 0.1 cosine, as the ImageNet-LT stage 2.
_base_ = ['./resnet32_1xb128-200e_cifar100-lt-ir50.py']

runner_type = 'DisAlignRunner'
load_from = 'work_dirs/resnet32_1xb128-200e_cifar100-lt-ir50/epoch_200.pth'

model = dict(
    head=dict(
        type='DisAlignLinearClsHead',
        loss=dict(
            _delete_=True,
            type='GRWKLLoss',
            class_counts={{_base_.class_counts}},
            rho=1.2)))

max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = dict(
    _delete_=True,
    type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
    end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2))
