# DisAlign stage 1 on CIFAR-100-LT (imbalance 100): ResNet-32, plain CE,
# 200 epochs, batch 128.
_base_ = [
    '../_base_/stage1/resnet32_1xb128-200e_cifar-lt.py',
    '../_base_/datasets/cifar100-lt-ir100_bs128.py',
]

model = dict(head=dict(num_classes=100))
