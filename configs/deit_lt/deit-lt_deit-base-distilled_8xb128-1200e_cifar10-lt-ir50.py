# DeiT-LT on CIFAR-10-LT, imbalance 50, with the imbalance-50 ResNet-32
# teacher. Published (average of the heads; PaCo + SAM teacher): 89.8
# (94.9 / 87.0 / 88.6).
_base_ = ['./deit-lt_deit-base-distilled_8xb128-1200e_cifar10-lt-ir100.py']
teacher_config = \
    '{{ fileDirname }}/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir50.py'
# the teacher run's work dir (its latest checkpoint), or a checkpoint file
teacher_checkpoint = 'work_dirs/resnet32_ldam-drw-sam_1xb128-200e_cifar10-lt-ir50'
model = dict(
    teacher=dict(config=teacher_config, checkpoint=teacher_checkpoint))
imbalance_ratio = 50
train_dataloader = dict(dataset=dict(imbalance_ratio=imbalance_ratio))
