# DisAlign stage 1 on CIFAR-100-LT with imbalance 50 (500 ... 10 images).
_base_ = ['./resnet32_1xb128-200e_cifar100-lt-ir100.py']

imbalance_ratio = 50
class_counts = [int(500 * (1 / imbalance_ratio)**(i / 99)) for i in range(100)]
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
val_evaluator = dict(class_counts=class_counts)
test_evaluator = val_evaluator
