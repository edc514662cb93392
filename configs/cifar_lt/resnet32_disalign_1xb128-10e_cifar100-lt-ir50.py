# DisAlign stage 2 on CIFAR-100-LT (imbalance 50):
# resnet32_disalign_cifar-lt_10e.py on the data of its stage 1,
# resnet32_1xb128-200e_cifar100-lt-ir50.py, from that run's last
# checkpoint; the G-RW loss on the subset's counts.
_base_ = [
    './resnet32_disalign_cifar-lt_10e.py',
    '../_base_/datasets/cifar100-lt-ir50_bs128.py',
]

load_from = 'work_dirs/resnet32_1xb128-200e_cifar100-lt-ir50/epoch_200.pth'
model = dict(
    head=dict(num_classes=100, loss=dict(class_counts=_base_.class_counts)))
