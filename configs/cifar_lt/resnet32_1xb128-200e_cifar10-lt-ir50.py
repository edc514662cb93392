# DisAlign stage 1 on CIFAR-10-LT with imbalance 50 (5000 ... 100 images).
_base_ = [
    '../_base_/stage1/resnet32_1xb128-200e_cifar-lt.py',
    '../_base_/datasets/cifar10-lt-ir50_bs128.py',
]
