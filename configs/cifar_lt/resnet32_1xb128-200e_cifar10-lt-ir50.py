# DisAlign stage 1 on CIFAR-10-LT with imbalance 50 (5000 ... 100 images).
_base_ = [
    './resnet32_cifar-lt_200e.py',
    '../_base_/datasets/cifar10-lt-ir50_bs128.py',
]
