# CIFAR-100-LT, imbalance ratio 100: the standard CIFAR-100 python files in
# data/cifar100/cifar-100-python, class i keeping
# int(500 * (1 / 100) ** (i / 99)) training images (500 ... 5, 10,847 in
# all); balanced test set. Many (> 100 images) / medium / few (< 20) by the
# training counts, as in most CIFAR-100-LT papers (35 / 35 / 30 classes at
# ratio 100).
# Another ratio: a file like cifar100-lt-ir50_bs128.py, which sets the ratio
# and its counts (and the metric's) again (mmengine evaluates this file on
# its own: counts computed here do not follow a ratio a child sets).
# (mmlt.classification is imported by the model config it is combined with.)
_base_ = ['mmpretrain::_base_/datasets/cifar100_bs16.py']

imbalance_ratio = 100
class_counts = [int(500 * (1 / imbalance_ratio)**(i / 99)) for i in range(100)]

train_dataloader = dict(
    batch_size=128,
    dataset=dict(
        type='CIFAR100LT', imbalance_ratio=imbalance_ratio, seed=0,
        download=False))
val_dataloader = dict(
    batch_size=128, dataset=dict(type='CIFAR100LT', download=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='LongTailAccuracy', class_counts=class_counts,
                     per_class_results=True)
test_evaluator = val_evaluator
