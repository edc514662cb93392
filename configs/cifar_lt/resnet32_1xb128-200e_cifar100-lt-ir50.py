# DisAlign stage 1 on CIFAR-100-LT with imbalance 50 (500 ... 10 images).
_base_ = [
    './resnet32_cifar-lt_200e.py',
    '../_base_/datasets/cifar100-lt-ir50_bs128.py',
]

model = dict(head=dict(num_classes=100))
