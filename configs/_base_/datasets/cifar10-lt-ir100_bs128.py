# CIFAR-10-LT, imbalance ratio 100: the standard CIFAR-10 python batches in
# data/cifar10/cifar-10-batches-py (mmpretrain's layout), class i keeping
# int(5000 * (1 / 100) ** (i / 9)) training images (5000 ... 50, 12,406 in
# all) picked by a per-class shuffle with `seed`; the test set is the
# balanced CIFAR-10 test batch. Many / medium / few: DeiT-LT's class-index
# split [0, 3) / [3, 7) / [7, 10) (every class has >= 50 images, so the
# ImageNet-LT thresholds would put all in many / medium).
# Another ratio: a file like cifar10-lt-ir50_bs128.py, which sets the ratio
# and its counts again (mmengine evaluates this file on its own: counts
# computed here do not follow a ratio a child sets).
# (mmlt.classification is imported by the model config it is combined with.)
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py']

imbalance_ratio = 100
# The training counts of the subset, for the stage-2 G-RW loss
# (CIFAR10LT uses the same formula; tests check they agree).
class_counts = [int(5000 * (1 / imbalance_ratio)**(i / 9)) for i in range(10)]

train_dataloader = dict(
    batch_size=128,
    dataset=dict(
        type='CIFAR10LT', imbalance_ratio=imbalance_ratio, seed=0,
        download=False))
val_dataloader = dict(
    batch_size=128, dataset=dict(type='CIFAR10LT', download=False))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='LongTailAccuracy', per_class_results=True,
    class_groups=dict(many=(0, 3), medium=(3, 7), few=(7, 10)))
test_evaluator = val_evaluator
