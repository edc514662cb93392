# ImageNet-LT data (Liu et al., CVPR 2019): mmpretrain's ImageNet pipeline
# and folder, with the three ImageNet-LT lists in data/imagenet/:
#   ImageNet_LT_train.txt (115,846 images, 1280 to 5 per class),
#   ImageNet_LT_val.txt (20 per class), ImageNet_LT_test.txt (50 per class,
#   the ImageNet val images, in class folders under data/imagenet/val/).
# Val during training on the val list, test (the reported numbers) on test.
# The training frequencies (metric split, G-RW weights) come from
#   python tools/analysis/class_frequency.py list \
#       data/imagenet/ImageNet_LT_train.txt --classes mmpretrain.ImageNet \
#       -o data/imagenet/ImageNet_LT_train_freq.json
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs32.py']
custom_imports = dict(imports=['mmlt.classification'], allow_failed_imports=False)

data_root = 'data/imagenet/'
frequency_file = data_root + 'ImageNet_LT_train_freq.json'
dataset_type = 'ImageNetLT'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
# top-1 / top-5 overall, top-1 for many (> 100 train images) / medium /
# few (< 20) classes, and per class.
val_evaluator = dict(
    type='LongTailAccuracy', frequency_file=frequency_file, topk=(1, 5),
    per_class_results=True)
test_evaluator = val_evaluator
