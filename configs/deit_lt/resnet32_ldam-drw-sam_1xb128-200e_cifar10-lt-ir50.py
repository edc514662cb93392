# DeiT-LT's ResNet-32 teacher (LDAM + DRW + SAM) on CIFAR-10-LT, imbalance 50.
_base_ = ['./resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py']
imbalance_ratio = 50
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
