# DeiT-LT on CIFAR-100-LT (imbalance 100) with the ResNet-32 LDAM-DRW-SAM
# teacher at 32 px; recipe as CIFAR-10-LT. Published (average of the heads,
# overall (head / mid / tail); PaCo + SAM teacher): 55.6 (72.8 / 55.4 /
# 31.4).
_base_ = ['./deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py']

dataset_type = 'CIFAR100LT'
data_root = 'data/cifar100'
num_classes = 100
class_groups = dict(many=(0, 36), medium=(36, 71), few=(71, 100))
teacher_config = \
    '{{ fileDirname }}/resnet32_ldam-drw-sam_1xb128-200e_cifar100-lt-ir100.py'
# the teacher run's work dir (its latest checkpoint), or a checkpoint file
teacher_checkpoint = 'work_dirs/resnet32_ldam-drw-sam_1xb128-200e_cifar100-lt-ir100'

model = dict(
    head=dict(num_classes=num_classes),
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint))
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='cls_score', prefix='lt_cls'),
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='dist_score', prefix='lt_dist'),
    dict(type='LongTailAccuracy', per_class_results=True, class_groups=class_groups,
         pred_key='pred_score', prefix='lt_avg'),
]
test_evaluator = val_evaluator
