# DisAlign stage 1 on CIFAR-10-LT with imbalance 50 (5000 ... 100 images).
_base_ = ['./resnet32_1xb128-200e_cifar10-lt-ir100.py']

imbalance_ratio = 50
class_counts = [int(5000 * (1 / imbalance_ratio)**(i / 9)) for i in range(10)]
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
