# DeiT-LT's ResNet-32 teacher (LDAM + DRW + SAM, rho 0.8) on CIFAR-100-LT,
# imbalance 100; recipe as the CIFAR-10-LT config.
# CIFAR-100 (python version) in data/cifar100/cifar-100-python.
_base_ = ['./resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir100.py']

dataset_type = 'CIFAR100LT'
data_root = 'data/cifar100'
num_classes = 100
imbalance_ratio = 100
# DeiT-LT's head / medium / tail classes of CIFAR-100-LT
class_groups = dict(many=(0, 36), medium=(36, 71), few=(71, 100))

model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418])
train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root,
        imbalance_ratio=imbalance_ratio))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='LongTailAccuracy', class_groups=class_groups,
                     per_class_results=True)
test_evaluator = val_evaluator
