# DisAlign stage 1 on CIFAR-100-LT with imbalance 50 (500 ... 10 images).
_base_ = [
    '../_base_/stage1/resnet32_1xb128-200e_cifar-lt.py',
    '../_base_/datasets/cifar100-lt-ir50_bs128.py',
]

model = dict(head=dict(num_classes=100))
