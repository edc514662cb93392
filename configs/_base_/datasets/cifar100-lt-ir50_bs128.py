# CIFAR-100-LT with imbalance ratio 50 (500 ... 10 images per class; many /
# medium / few 41 / 41 / 18 classes); otherwise cifar100-lt-ir100_bs128.py.
_base_ = ['./cifar100-lt-ir100_bs128.py']

imbalance_ratio = 50
class_counts = [int(500 * (1 / imbalance_ratio)**(i / 99)) for i in range(100)]
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
val_evaluator = dict(class_counts=class_counts)
test_evaluator = val_evaluator
