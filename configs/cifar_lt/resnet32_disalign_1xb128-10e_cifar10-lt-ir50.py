# DisAlign stage 2 on CIFAR-10-LT (imbalance 50):
# ../_base_/stage2/resnet32_disalign_1xb128-10e_cifar-lt.py on the data of
# its stage 1, resnet32_1xb128-200e_cifar10-lt-ir50.py, from the latest
# checkpoint of that run's work dir; the G-RW loss on the subset's counts.
#   python tools/train.py configs/cifar_lt/resnet32_1xb128-200e_cifar10-lt-ir50.py
#   python tools/train.py configs/cifar_lt/resnet32_disalign_1xb128-10e_cifar10-lt-ir50.py
# (a checkpoint file instead: --cfg-options load_from=STAGE1.pth)
_base_ = [
    '../_base_/stage2/resnet32_disalign_1xb128-10e_cifar-lt.py',
    '../_base_/datasets/cifar10-lt-ir50_bs128.py',
]

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/resnet32_1xb128-200e_cifar10-lt-ir50'
# G-RW strength: the paper's ImageNet-LT dot-product value (no CIFAR value)
rho = 1.2
# ======================= Unmodified in most cases ===========================

model = dict(
    head=dict(loss=dict(class_counts=_base_.class_counts, rho=rho)))
