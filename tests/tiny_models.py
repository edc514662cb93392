"""Tiny models the tests build in several places."""


def resnet8_teacher_cfg(num_classes=3, in_channels=64) -> dict:
    """A CIFAR ResNet-8 classifier: the tiny DeiT-LT teacher."""
    return dict(
        type='ImageClassifier',
        backbone=dict(type='CifarResNet', depth=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=in_channels))


def tiny_deit_student(teacher: dict):
    """A one-layer DeiT-LT student of 3 classes on 16-pixel images, with the
    ``teacher`` (``DeiTLTClassifier``'s ``teacher`` argument)."""
    import mmlt.classification  # noqa: F401
    from mmpretrain.registry import MODELS
    return MODELS.build(dict(
        type='DeiTLTClassifier',
        backbone=dict(type='DistilledVisionTransformer',
                      arch=dict(embed_dims=16, num_layers=1, num_heads=2,
                                feedforward_channels=32),
                      img_size=16, patch_size=4),
        head=dict(type='DeiTLTClsHead', num_classes=3, in_channels=16),
        data_preprocessor=dict(num_classes=3),
        teacher=teacher))
