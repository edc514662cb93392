# DisAlign stage 1 on CIFAR-10-LT (imbalance 100): ResNet-32 from scratch,
# plain CE, 200 epochs (LDAM-DRW's schedule), one GPU, batch 128.
_base_ = [
    '../_base_/stage1/resnet32_1xb128-200e_cifar-lt.py',
    '../_base_/datasets/cifar10-lt-ir100_bs128.py',
]
