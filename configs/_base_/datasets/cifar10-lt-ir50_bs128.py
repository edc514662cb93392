# CIFAR-10-LT with imbalance ratio 50 (5000 ... 100 images per class);
# otherwise cifar10-lt-ir100_bs128.py.
_base_ = ['./cifar10-lt-ir100_bs128.py']

imbalance_ratio = 50
class_counts = [int(5000 * (1 / imbalance_ratio)**(i / 9)) for i in range(10)]
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
